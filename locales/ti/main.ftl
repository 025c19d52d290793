# Tigrinya (ti): Ethiopic script (U+1200-137F). Tigrinya, not Amharic (ናይ, ኣሎ, ቐ, ኸ ...).
# Polite plural forms (ስደዱ, ምረጹ). Plain words, one idea per sentence.
# At most 134 characters per message (2 UCS-2 SMS).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = ትግርኛ
# First line of the language menu; the numbered list of languages follows it.
language-menu = ቋንቋኹም ምረጹ። ቁጽሪ ስደዱ:

## First contact and main menu
welcome = ናብ ማእከል ሓገዝ ናይ IOM እንቋዕ ብደሓን መጻእኩም። መልስታት ብነጻ እዮም። መልስታት ኣኻሊ እንተዘይኮይኖም፣ ሰብ ክሕግዘኩም ይኽእል።
main-menu = ቀንዲ ዝርዝር። ቁጽሪ ስደዱ:
main-menu-payments = ወርሓዊ ክፍሊት
main-menu-schooling = ቤት ትምህርትን ኮርሳትን
main-menu-return = ናብ ዓዲ ምምላስ (ወለንታዊ)
main-menu-person = ምስ ሰብ ምዝራብ

## Answers
payments-info = IOM ወርሓዊ ሓገዝ ኣብ ወርሒ ሓደ ግዜ ይኸፍል። ሰራሕተኛታት ዕለቱ ብመልእኽቲ ይሰዱ። ክፍሊት እንተዘይበጽሓኩም፣ «ሰብ» ስደዱ። ንዝርዝር 0 ስደዱ።
schooling-info = ቆልዑ ናብ ቤት ትምህርቲ ክኸዱ ይኽእሉ። ንዓበይቲ እውን ኮርሳት ኣለዉ። ብዛዕባ ምምዝጋብ ንምሕታት፣ ምስ ሰብ ተዛረቡ። ንዝርዝር 0 ስደዱ።
return-info = እንተደሊኹም፣ IOM ናብ ዓድኹም ንኽትምለሱ ክሕግዘኩም ይኽእል። ውሳኔ ናትኩም እዩ። ብነጻን ብምስጢርን እዩ። ሰብ ዝያዳ ክነግረኩም ይኽእል። ንዝርዝር 0 ስደዱ።

## Talking to a person
human-waiting = የቐንየልና። ሰብ ኣብዚ ቀልጢፉ ክምልሰልኩም እዩ። ሕጂ ዝያዳ ክትጽሕፉ ትኽእሉ ኢኹም። ንዝርዝር 0 ስደዱ።
not-understood = ይቕሬታ፣ ኣይተረድኣንን። በጃኹም ካብ ዝርዝር ሓደ ቁጽሪ ስደዱ።
offer-human = ገና ኣይተረድኣንን። ምስ ሰብ ንምዝራብ 1 ስደዱ፣ ወይ ንዝርዝር 0 ስደዱ።

## Notices on and off
stopped = ካባና ተወሳኺ ሓበሬታ ኣይክበጽሓኩምን እዩ። ሕጂ እውን ክትጽሕፉልና ትኽእሉ ኢኹም። ሓበሬታ ዳግማይ ንኽትቕበሉ START ወይ «ጀምር» ስደዱ።
started = ሓበሬታ ዳግማይ ክበጽሓኩም እዩ። ንዝርዝር 0 ስደዱ።
