# Tigrinya (ti). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words work in every locale anyway; list here the words people of this language would type.
# Words used as commands in main.ftl («ጀምር», «ኣቋርጹ», «ደምስሱ», «ብሕትውና») must stay here.
# Many Eritreans type Tigrinya in Latin letters on phones: common Latin spellings are listed after
# the Ethiopic words (lower case). Greetings such as "selam" are deliberately NOT keywords.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## Commands: the whole message must be one of these words.
keyword-menu = ዝርዝር, ቀንዲ ዝርዝር, ሜኑ, zrzr, zirzir, 0
keyword-language = ቋንቋ, ቋንቋ ቀይር, ቋንቋ ምቕያር, qwanqwa, kuankua
keyword-agent = ሰብ, ሰራሕተኛ, ተርጓሚ, ሓገዝ, seb, hagez
keyword-stop = ደው በል, ኣቋርጽ, ኣቋርጹ, dew bel, aqwarts
keyword-start = ጀምር, ጀምሩ, ምጅማር, jemr, jemru
keyword-privacy = ብሕትውና, ምስጢራውነት, bhtwna
keyword-delete = ደምስስ, ደምስሱ, ሓበሬታይ ደምስሱ, demsis, demsisu

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = ሳልሳይ ሃገር, ሳልሳይ ዓዲ, 3ይ ሃገር, ሪሰትል, ካናዳ, ኣመሪካ, ኣሜሪካ, ኣውስትራ, ኒውዚላንድ, ዩኤንኤች, ዩ ኤን ኤች, unhcr, salsay hager, salsai hager, kanada, amerika
route-payments = ሓገዝ ገንዘብ, ክፍሊት, ገንዘብ, ቅርሺ, ደሞዝ, genzeb, kflit, kfilit, qrshi, qirshi
route-schooling = ትምህር, ምምሃር, ክምሃር, ኮርስ, ኮርሳት, ክላስ, ስልጠና, tmhrti, timhrti, timhirti
route-return = ናብ ዓደይ, ናብ ዓድና, ናብ ሃገረይ, ናብ ዓዲ ምምላስ, ወለንታዊ ምምላስ, ናብ ኤርትራ, ናብ ኢትዮጵያ, nab adey, nab hagerey
route-health = ሓኪም, ሆስፒታል, ሕክምና, ሕማም, ሓሚመ, ሓሚሙ, ሓሚማ, ክሊኒክ, መድሃኒት, ገዛይ, ገዛና, መንበሪ, hakim, hospital, medhanit
