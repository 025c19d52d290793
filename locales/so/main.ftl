# Somali (so): Latin script, GSM-7 characters only (no smart quotes, no accents, no long dashes).
# Plain words, one idea per sentence. Stay under 300 characters (2 GSM-7 SMS).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = Soomaali
# First line of the language menu; the numbered list of languages follows it.
language-menu = Dooro luqaddaada. Ku jawaab lambar:

## First contact and main menu
welcome = Ku soo dhawoow xafiiska caawimaadda IOM. Jawaabuhu waa bilaash. Qof ayaa ku caawin kara haddii jawaabuhu aysan kugu filnayn.
main-menu = Liiska weyn. Ku jawaab lambar:
main-menu-payments = Lacagta bishii
main-menu-schooling = Iskuul iyo fasallo
main-menu-return = Ku laabashada dalkaaga (ikhtiyaari)
main-menu-person = La hadal qof

## Answers
payments-info = IOM waxay bixisaa lacagta taageerada hal mar bishii. Shaqaaluhu waxay taariikhda kuu soo diraan fariin ahaan. Haddii lacagtu ku soo gaari weydo, dir AGENT. Dir 0 si aad ugu noqoto liiska.
schooling-info = Carruurtu waxay aadi karaan iskuulka. Waxaa kale oo jira fasallo loogu talagalay dadka waaweyn. Haddii aad rabto boos, la hadal qof. Dir 0 si aad ugu noqoto liiska.
return-info = IOM waxay kaa caawin kartaa inaad dalkaaga ku laabato haddii aad rabto. Waa doorashadaada, waa bilaash, waana qarsoodi. Qof ayaa kuu sheegi kara wax badan. Dir 0 si aad ugu noqoto liiska.

## Talking to a person
human-waiting = Mahadsanid. Qof ayaa halkan kaaga jawaabi doona dhowaan. Hadda wax kale ayaad qori kartaa. Dir 0 si aad ugu noqoto liiska.
not-understood = Waan ka xumahay, ma fahmin. Fadlan ku jawaab lambar liiska ku jira.
offer-human = Weli ma fahmin. Dir 1 si aad qof ula hadasho, ama 0 si aad ugu noqoto liiska.

## Notices on and off
stopped = Ogeysiis kale nagama heli doontid. Weli waad noo qori kartaa. Dir START si aad mar kale u hesho ogeysiisyada.
started = Mar kale ayaad heli doontaa ogeysiisyada. Dir 0 si aad ugu noqoto liiska.
