# Tigrinya (ti): Ethiopic script (U+1200-137F). Tigrinya, not Amharic (ናይ, ኣሎ, ቐ, ኸ ...).
# Polite plural forms (ስደዱ, ምረጹ). Plain words, one idea per sentence.
# At most 134 characters per message (2 UCS-2 SMS); menu option labels at most 24.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.
# Command words stay in Latin capitals (STOP, DELETE, PRIVACY, START), each followed by the Tigrinya
# word in «...», which must stay in the matching keyword-* list of keywords.ftl.
# Never put an amount or a date in a text: those come from data staff maintain ($date, $city).

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = ትግርኛ
# First line of the language menu; the numbered list of languages follows it.
language-menu = ቋንቋኹም ምረጹ። ቁጽሪ ስደዱ:

## Consent and privacy (first contact, after the language)
consent-notice = ንኽንሕግዘኩም፣ ቁጽሪ ተሌፎንኩም፣ ቋንቋኹምን መልእኽትታትኩምን ንዕቅብ። ሰራሕተኛታት ማእከል ሓገዝ ጥራይ እዮም ዝርእይዎም።
consent-agree = እሰማማዕ እየ
consent-more = ዝያዳ ንገሩኒ
privacy-info = ቁጽሪ ተሌፎንኩም፣ ቋንቋኹም፣ ከተማኹምን መልእኽትታትኩምን ክሳብ { $retain_days } መዓልቲ ጥራይ ንዕቅቦም። ብዛዕባ ታሪኽ ዑቕባኹም፣ ሃይማኖትኩም ወይ ብሄርኩም ፈጺምና ኣይንሓትትን።
privacy-rights = ምልክታታት ንምቁራጽ STOP ወይ «ኣቋርጹ» ስደዱ። ናይ ብሕቲ ሓበሬታኹም ክንድምስሶ እንተደሊኹም DELETE ወይ «ደምስሱ» ስደዱ። ነዚ ደጊምኩም ንምንባብ PRIVACY ወይ «ብሕትውና» ስደዱ።
delete-requested = ናይ ብሕቲ ሓበሬታኹም ክንድምስሶ ኢና። ሰራሕተኛታት ብመልእኽቲ ከረጋግጹልኩም እዮም። ኣብ ዝኾነ ግዜ ደጊምኩም ክትጽሕፉልና ትኽእሉ ኢኹም።

## Main menu
welcome = የቐንየልና። ኣብዚ ብዛዕባ ወርሓዊ ሓገዝ ገንዘብ፣ ቤት ትምህርቲ፣ ናብ ዓዲ ምምላስ፣ ናብ ሳልሳይ ሃገር ምኻድን ጥዕናን ሕተቱ። መልስታት ብነጻ እዮም።
main-menu = ቀንዲ ዝርዝር። ቁጽሪ ስደዱ:
main-menu-payments = ወርሓዊ ሓገዝ ገንዘብ
main-menu-schooling = ቤት ትምህርትን ኮርሳትን
main-menu-return = ናብ ዓዲ ምምላስ (ወለንታዊ)
main-menu-resettlement = ሳልሳይ ሃገርን UNHCRን
main-menu-health = ጥዕናን መንበሪ ገዛን
main-menu-person = ምስ ሰብ ምዝራብ

## Monthly payment
payments-menu = ወርሓዊ ሓገዝ ገንዘብ። ቁጽሪ ስደዱ:
payments-menu-date = ዕለት ዝቕጽል ሓገዝ ገንዘብ
payments-menu-problem = ሓገዝ ገንዘብ ዘይበጽሐ ወይ ጌጋ
payments-menu-rules = ሓገዝ ገንዘብ ብኸመይ ይወሃብ
payments-city = ኣብ ኣየናይ ከተማ ትነብሩ? ቁጽሪ ስደዱ:
payments-date = ዝቕጽል ሓገዝ ገንዘብ ኣብ { $city }: { $date }። ንዝርዝር 0 ስደዱ።
payments-no-dates = ክሳብ ሕጂ ዕለታት ሓገዝ ገንዘብ የብልናን። ሰራሕተኛታት ብመልእኽቲ ክሰድዎም እዮም። ንዝርዝር 0 ስደዱ።
payments-date-unknown = ናይ { $city } ዝቕጽል ዕለት ክሳብ ሕጂ የብልናን። ሰራሕተኛታት ብመልእኽቲ ክሰድዎ እዮም። ንዝርዝር 0 ስደዱ።
payments-rules = IOM ኣብ ትሕቲ ሓልዮቱ ንዘለዉ ሰባት ወርሓዊ ሓገዝ ገንዘብ ይህብ። መጠኑ ብብዝሒ ስድራኹም ይውሰን። ሰራሕተኛታት ዕለታት ብመልእኽቲ ይሰዱ። ንዝርዝር 0 ስደዱ።
payments-case = በጃኹም ናይ IOM ቁጽሪ ፋይልኩም ስደዱ (ኣሃዛት ጥራይ)።
payments-case-invalid = እዚ ቁጽሪ ፋይል ኣይኮነን። በጃኹም ኣሃዛት ጥራይ ስደዱ፣ ንኣብነት 12345።
payments-problem-sent = የቐንየልና። ሰራሕተኛታት ሓገዝ ገንዘብኩም ኣጻርዮም ኣብዚ ክምልሱልኩም እዮም። ንዝርዝር 0 ስደዱ።

## School and classes
schooling-menu = ቤት ትምህርትን ኮርሳትን። ቁጽሪ ስደዱ:
schooling-menu-children = ቤት ትምህርቲ ንቆልዑ
schooling-menu-informal = ዘይስሩዕ ኮርሳት
schooling-menu-vocational = ሞያዊ ስልጠና
schooling-menu-english = ትምህርቲ እንግሊዝኛ
schooling-menu-register = ክምዝገብ ደልየ
schooling-children = ቆልዑ ኣብ ኢንዶነዥያ ናብ ቤት ትምህርቲ ክኸዱ ይኽእሉ። IOM ኣብ ምምዝጋብ ክሕግዝ ይኽእል። ቦታ ንምሕታት 1 ስደዱ:
schooling-informal = ኣብ ሓባራዊ መንበሪ ገዛ ንቆልዑን ንዓበይትን ዘይስሩዕ ኮርሳት ኣለዉ። ሰዓታት ንሰራሕተኛታት ሕተቱ። ንዝርዝር 0 ስደዱ።
schooling-vocational = ኣብ ገለ ከተማታት ሞያዊ ስልጠና ኣሎ፣ ከም ምስፋይ ክዳውንቲ ወይ ኮምፒተር። ቦታታት ውሑዳት እዮም። ንዝርዝር 0 ስደዱ።
schooling-english = ኣብ ገለ ከተማታት ትምህርቲ እንግሊዝኛ ኣሎ። ንምጽንባር 1 ስደዱ:
schooling-register-who = ንመን እዩ? ቁጽሪ ስደዱ:
schooling-register-child = ንውላደይ
schooling-register-me = ንዓይ
schooling-child-age = ዕድመ እቲ ቆልዓ ክንደይ እዩ? ብዓመታት ስደዱ፣ ንኣብነት 8።
schooling-child-age-invalid = በጃኹም ዕድመ ብቑጽሪ ካብ 3 ክሳብ 18 ስደዱ፣ ንኣብነት 8።
schooling-interest = እንታይ ክትመሃሩ ትደልዩ? ቁጽሪ ስደዱ:
schooling-registered = የቐንየልና። ሰራሕተኛታት ብዛዕባ ቦታ ኣብዚ ክጽሕፉልኩም እዮም። ንዝርዝር 0 ስደዱ።

## Going home (assisted voluntary return)
return-menu = ናብ ዓዲ ምምላስ (ወለንታዊ)። ቁጽሪ ስደዱ:
return-menu-what = ወለንታዊ ምምላስ እንታይ እዩ?
return-menu-choice = ናተይ ምርጫ ድዩ?
return-menu-who = መን ክኸይድ ይኽእል?
return-menu-counsellor = ምስ ኣማኻሪ ምምላስ ምዝራብ
return-what = ናብ ዓድኹም ክትምለሱ እንተደሊኹም፣ IOM ብጉዕዞ፣ ብሰነዳትን ድሕሪ ምብጻሕኩም ብገለ ሓገዝን ክሕግዘኩም ይኽእል።
return-iom-contacts = ቤት ጽሕፈት IOM ኣብ { $city }:
    { $contacts }
    ንዝርዝር 0 ስደዱ።
return-iom-none = ኣድራሻ ቤት ጽሕፈት IOM ናይ { $city } ገና የብልናን። ንዝርዝር 0 ስደዱ።
return-iom-none-yet = ናይ ዝኾነ ከተማ ኣድራሻ ቤት ጽሕፈት IOM ገና የብልናን። ንዝርዝር 0 ስደዱ።
return-choice = ኩሉ ግዜ ናይ ባዕልኹም ምርጫ እዩ። ብነጻ እዩ። ዝነገርኩምና ብምስጢር ይተሓዝ። ምሕታት ንጉዳይኩም ኣይቕይሮን። ንዝርዝር 0 ስደዱ።
return-who = ኣብ ሃገርኩምን ኩነታትኩምን ይምርኮስ። ዝውስኑ ሰራሕተኛታት IOM እዮም፣ እዚ ኣውቶማቲክ ኣገልግሎት ኣይኮነን። ኣማኻሪ ክገልጸልኩም ይኽእል። ንዝርዝር 0 ስደዱ።
return-counsellor-sent = የቐንየልና። ኣማኻሪ ምምላስ ኣብዚ ክምልሰልኩም እዩ። ሕቶታትኩም ብምስጢር ይተሓዙ። ንዝርዝር 0 ስደዱ።

## Resettlement and UNHCR
resettlement-menu = ሳልሳይ ሃገርን UNHCRን። ቁጽሪ ስደዱ:
resettlement-menu-when = መዓስ ናብ ሳልሳይ ሃገር ክኸይድ?
resettlement-menu-iom = IOM ዘይገብሮ ነገራት
resettlement-menu-unhcr = ምስ UNHCR ምርኻብ
resettlement-menu-travel = ተቐቢሎምኒ፦ ሕቶ ጉዕዞ
resettlement-when = ናብ ሳልሳይ ሃገር ምኻድ IOM ኣይውስኖን። ዝውስኑ UNHCRን ሃገራትን እዮም። ክኸውን ድዩ ወይ መዓስ ከም ዝኸውን ኣብዚ ዝፈልጥ ሰብ የለን። ንዝርዝር 0 ስደዱ።
resettlement-iom = IOM ናይ ስደተኛነት ቃለ መሕተት ኣይገብርን። IOM ንሳልሳይ ሃገር ሰባት ኣይመርጽን። IOM ንሰባት ብግዲ ኣይመልስን። ንዝርዝር 0 ስደዱ።
resettlement-unhcr = ብዛዕባ ስደተኛነት ወይ ሳልሳይ ሃገር፣ ምስ UNHCR ኢንዶነዥያ ተራኸቡ።
resettlement-unhcr-contacts = ኣድራሻ UNHCR ኣብ { $city }:
    { $contacts }
    ንዝርዝር 0 ስደዱ።
resettlement-unhcr-none = ኣድራሻ UNHCR ናይ { $city } ገና የብልናን። ንዝርዝር 0 ስደዱ።
resettlement-unhcr-none-yet = ናይ ዝኾነ ከተማ ኣድራሻ UNHCR ገና የብልናን። ንዝርዝር 0 ስደዱ።
resettlement-travel-sent = የቐንየልና። ሰራሕተኛታት ሕቶታት ጉዕዞኹም (ትኬት፣ ሕክምናዊ መርመራ፣ ዕለት) ኣብዚ ክምልሱ እዮም። ንዝርዝር 0 ስደዱ።

## Health and housing
health-menu = ጥዕናን መንበሪ ገዛን። ቁጽሪ ስደዱ:
health-menu-medical = ሓኪም የድልየኒ
health-menu-interpreter = ተርጓሚ ንቆጸራ ሓኪም
health-menu-housing = ጸገም ኣብ ገዛይ
health-medical = ኣብ ህጹጽ ኩነታት ናብ 112 ደውሉ። ንኻልእ ጸገም ጥዕና ንሰራሕተኛታት IOM ንገሩ። IOM ናብ ክሊኒክ ክሰደኩም ይኽእል።
health-clinic-contacts = ክሊኒካት ኣብ { $city }:
    { $contacts }
    ንዝርዝር 0 ስደዱ።
health-clinic-none = ኣድራሻ ክሊኒክ ናይ { $city } ገና የብልናን። ንሰራሕተኛታት IOM ንገሩ። ንዝርዝር 0 ስደዱ።
health-clinic-none-yet = ናይ ዝኾነ ከተማ ኣድራሻ ክሊኒክ ገና የብልናን። ንሰራሕተኛታት IOM ንገሩ። ንዝርዝር 0 ስደዱ።
health-interpreter = IOM ናብ ቆጸራ ሓኪም ተርጓሚ ክሰድ ይኽእል። ዕለትን ቦታን ኣቐዲምኩም ንሰራሕተኛታት ንገሩ። ንዝርዝር 0 ስደዱ።
health-housing-describe = በጃኹም ጸገም ገዛኹም ብሒደት ቃላት ንገሩና።
health-housing-sent = የቐንየልና። ሰራሕተኛታት ብዛዕባ ጸገም ገዛ ኣብዚ ክምልሱልኩም እዮም። ንዝርዝር 0 ስደዱ።

## Safety
safeguarding-reply = ስለ ዝነገርኩምና የቐንየልና። ሕጂ ኣብ ሓደጋ እንተሃሊኹም፣ ናብ 112 ደውሉ። ሓላፊ ብዝተኻእለ መጠን ቀልጢፉ ኣብዚ ክጽሕፈልኩም እዩ።

## Talking to a person
human-waiting = የቐንየልና። ሰብ ኣብዚ ቀልጢፉ ክምልሰልኩም እዩ። ሕጂ ዝያዳ ክትጽሕፉ ትኽእሉ ኢኹም። ንዝርዝር 0 ስደዱ።
not-understood = ይቕሬታ፣ ኣይተረድኣንን። በጃኹም ካብ ዝርዝር ሓደ ቁጽሪ ስደዱ።
offer-human = ገና ኣይተረድኣንን። ምስ ሰብ ንምዝራብ 1 ስደዱ፣ ወይ ንዝርዝር 0 ስደዱ።

## Other channels (WhatsApp)
# Reply to a voice note, photo or document: a person will handle it.
media-received = የቐንየልና። ሰብ ዝሰደድኩምዎ ሰሚዑ ወይ ርእዩ ኣብዚ ክምልሰልኩም እዩ። ንዝርዝር 0 ስደዱ።
# Reply to a location, sticker, contact card or anything else we cannot read.
unsupported-message = ይቕሬታ፣ ጽሑፍ፣ ናይ ድምጺ መልእኽቲ፣ ስእልን ሰነድን ጥራይ እየ ክቕበል ዝኽእል። በጃኹም ሕቶኹም ጽሓፉ፣ ወይ ንዝርዝር 0 ስደዱ።
# The button that opens a WhatsApp list menu (at most 20 characters).
menu-button = ምረጹ

## Working hours and closing (interpreter queue)
after-hours = የቐንየልና። ቤት ጽሕፈት ሕጂ ዕጹው እዩ። ሰብ { $day ->
        [today] ሎሚ
        [tomorrow] ጽባሕ
        [mon] ሰኑይ
        [tue] ሰሉስ
        [wed] ረቡዕ
        [thu] ሓሙስ
        [fri] ዓርቢ
        [sat] ቀዳም
        [sun] ሰንበት
       *[other] ኣብ ዝቕጽል መዓልቲ ስራሕ
    } ካብ ሰዓት { $time } ጀሚሩ ክምልሰልኩም እዩ።
ticket-closed = እዚ ዝርርብ ተዓጽዩ ኣሎ። ኣብ ውሽጢ 24 ሰዓት ደጊምኩም እንተጸሓፍኩም፣ እቲ ቅድም ዝመለሰልኩም ሰብ ክምልሰልኩም እዩ። ንዝርዝር 0 ስደዱ።

## Notices on and off
stopped = ካባና ተወሳኺ ምልክታ ኣይክበጽሓኩምን እዩ። ሕጂ እውን ክትጽሕፉልና ትኽእሉ ኢኹም። ምልክታ ዳግማይ ንኽትቕበሉ START ወይ «ጀምሩ» ስደዱ።
started = ምልክታ ዳግማይ ክበጽሓኩም እዩ። ንዝርዝር 0 ስደዱ።
