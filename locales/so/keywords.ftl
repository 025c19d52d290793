# Somali (so). Words a person can send at any time, separated by commas. Matching ignores case,
# surrounding punctuation, harakat and tatweel, and folds Arabic/Persian letter variants. The English
# words (menu, language, agent, stop, start, privacy, delete) work in every locale anyway; list here
# the words people of this language would type. GSM-7 characters only.
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## Commands: the whole message must be one of these words.
keyword-menu = liiska, liis, liiska weyn, 0
keyword-language = luqad, luqadda, luuqad, luuqadda, luqada, luuqada, beddel luqadda, beddel luuqadda
keyword-agent = qof, shaqaale, turjumaan, turjubaan, dilmaaj, dilmaaji, la hadal qof, caawimaad, caawi, i caawi, caawimo
keyword-stop = jooji, joogso, iska jooji
keyword-start = bilow, bilaab, dib u bilow
keyword-privacy = asturnaan, asturnaanta, qarsoodinimo
keyword-delete = tirtir, tirtir xogtayda, masax, masax xogtayda

## Safety words are in safeguarding.txt beside this file (one phrase a line, two tiers).

## Free-text routing: a message that is not a menu number but contains one of these words or
## phrases goes to that topic.
route-resettlement = dejin, dal saddexaad, waddan saddexaad, unhcr, qaramada midoobay, canada, kanada, australia, awstaraaliya, ameerika, america, maraykan, mareykan, new zealand
route-payments = lacag, mushahar, gunno, kaash, cash
route-schooling = iskuul, iskool, dugsi, fasal, koorso, waxbarasho, wax barasho, ingiriis, tababar
route-return = ku laab, dib ugu laab, laabasho, dalkayga, dalkeyga, dalkaygii, dalkii hooyo
route-health = dhakhtar, dhaktar, cisbitaal, isbitaal, bukaan, bukaa, jiran, jirran, xanuun, daawo, dawo, rug caafimaad, guriga, guri, guryaha
