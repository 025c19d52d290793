# Somali (so): Latin script, GSM-7 characters only (no smart quotes, no accents, no long dashes).
# Plain words, one idea per sentence. Stay under 300 characters (2 GSM-7 SMS); menu option labels
# at most 24 characters. Command words stay in Latin capitals (STOP, DELETE, PRIVACY, START).
# Machine-drafted, NOT yet reviewed by a native speaker: see locales/REVIEW.md.

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = Soomaali
# First line of the language menu; the numbered list of languages follows it.
language-menu = Dooro luqaddaada. Ku jawaab lambar:

## Consent and privacy (first contact, after the language)
consent-notice = Si aan kuu caawino, waxaan kaydinaa lambarkaaga, luqaddaada iyo fariimahaaga. Shaqaalaha adeegga caawimaadda oo keliya ayaa arka.
consent-agree = Waan ogolahay
consent-more = Wax dheeraad ah ii sheeg
privacy-info = Waxaan kaydinaa lambarkaaga, luqaddaada, magaaladaada iyo fariimahaaga ugu badnaan { $retain_days } maalmood. Weligeen kuma weydiino sheekada magangalyadaada, diintaada, qabiilkaaga ama qowmiyaddaada.
privacy-rights = Dir STOP si aad u joojiso ogeysiisyada. Dir DELETE si aad u codsato in xogtaada la tirtiro. Dir PRIVACY si aad tan mar kale u akhrido.
delete-requested = Xogtaada waan tirtiri doonnaa. Shaqaaluhu waxay kuu xaqiijin doonaan fariin ahaan. Waqti kasta mar kale ayaad noo qori kartaa.

## Main menu
welcome = Mahadsanid. Halkan wax ka weydii lacagta, iskuulka, ku laabashada dalkaaga, dib u dejinta iyo caafimaadka. Jawaabuhu waa bilaash.
main-menu = Liiska weyn. Ku jawaab lambar:
main-menu-payments = Lacagta bishii
main-menu-schooling = Iskuul iyo fasallo
main-menu-return = Ku laabasho ikhtiyaari
main-menu-resettlement = Dib u dejin iyo UNHCR
main-menu-health = Caafimaad iyo guri
main-menu-person = La hadal qof

## Monthly payment
payments-menu = Lacagta bishii. Ku jawaab lambar:
payments-menu-date = Taariikhda lacagta xigta
payments-menu-problem = Lacag maqan ama qaldan
payments-menu-rules = Sida lacagta loo bixiyo
payments-city = Magaaladee ayaad ku nooshahay? Ku jawaab lambar:
payments-date = Lacagta xigta ee { $city }: { $date }. Dir 0 si aad ugu noqoto liiska.
payments-no-dates = Weli ma hayno taariikhaha lacagta. Shaqaaluhu waxay kuu soo diri doonaan fariin ahaan. Dir 0 si aad ugu noqoto liiska.
payments-date-unknown = Weli ma hayno taariikhda xigta ee { $city }. Shaqaaluhu waxay kuu soo diri doonaan fariin ahaan. Dir 0 si aad ugu noqoto liiska.
payments-rules = IOM waxay lacag bille ah siisaa dadka ay daryeesho. Qadarku wuxuu ku xiran yahay tirada qoyskaaga. Shaqaaluhu waxay taariikhaha kuu soo diraan fariin ahaan. Dir 0 si aad ugu noqoto liiska.
payments-case = Fadlan soo dir lambarka kiiskaaga IOM (tirooyinka oo keliya).
payments-case-invalid = Taasi ma aha lambar kiis. Fadlan soo dir tirooyinka oo keliya, tusaale 12345.
payments-problem-sent = Mahadsanid. Shaqaaluhu way hubin doonaan lacagtaada, halkanna kaaga jawaabi doonaan. Dir 0 si aad ugu noqoto liiska.

## School and classes
schooling-menu = Iskuul iyo fasallo. Ku jawaab lambar:
schooling-menu-children = Iskuulka carruurta
schooling-menu-informal = Fasallo aan rasmi ahayn
schooling-menu-vocational = Tababar xirfadeed
schooling-menu-english = Fasallada Ingiriisiga
schooling-menu-register = Is diiwaangeli
schooling-children = Carruurtu waxay iskuul ka geli karaan Indonesia. IOM waxay ka caawin kartaa diiwaangelinta. Si aad boos u codsato, dir 1:
schooling-informal = Guryaha bulshada waxaa ka jira fasallo aan rasmi ahayn oo loogu talagalay carruurta iyo dadka waaweyn. Shaqaalaha weydii waqtiyada. Dir 0 si aad ugu noqoto liiska.
schooling-vocational = Magaalooyin qaar waxaa ka jira tababar xirfadeed, sida tolmo ama kombiyuutar. Boosasku waa yar yihiin. Dir 0 si aad ugu noqoto liiska.
schooling-english = Magaalooyin qaar waxaa ka jira fasallo Ingiriisi. Si aad ugu biirto, dir 1:
schooling-register-who = Yaa loogu talagalay? Ku jawaab lambar:
schooling-register-child = Ilmahayga
schooling-register-me = Aniga
schooling-child-age = Ilmuhu immisa sano jir buu yahay? Soo dir da'da sannado ahaan, tusaale 8.
schooling-child-age-invalid = Fadlan soo dir da'da oo lambar ah, 3 ilaa 18, tusaale 8.
schooling-interest = Maxaad rabtaa inaad barato? Ku jawaab lambar:
schooling-registered = Mahadsanid. Shaqaaluhu halkan ayay fariin kuu soo diri doonaan arrinta booska. Dir 0 si aad ugu noqoto liiska.

## Going home (assisted voluntary return)
return-menu = Ku laabashada dalkaaga (ikhtiyaari). Ku jawaab lambar:
return-menu-what = Waa maxay laabashadu?
return-menu-choice = Ma doorashadayda baa?
return-menu-who = Yaa laaban kara?
return-menu-counsellor = La hadal la-taliye
return-what = Haddii aad rabto inaad dalkaaga ku laabato, IOM way ku caawin kartaa: safarka, dukumeentiyada iyo xoogaa taageero ah markaad gaarto kadib.
return-iom-contacts = Xafiiska IOM ee { $city }:
    { $contacts }
    Dir 0 si aad ugu noqoto liiska.
return-iom-none = Weli ma hayno xiriirka xafiiska IOM ee { $city }. Dir 0 si aad ugu noqoto liiska.
return-iom-none-yet = Weli ma hayno xiriirka xafiiska IOM ee magaalo kasta. Dir 0 si aad ugu noqoto liiska.
return-choice = Had iyo jeer waa doorashadaada. Waa bilaash. Waxaad noo sheegto waa qarsoodi. Wax weydiintu ma beddesho kiiskaaga. Dir 0 si aad ugu noqoto liiska.
return-who = Waxay ku xiran tahay dalkaaga iyo xaaladdaada. Shaqaalaha IOM ayaa go'aamiya, ma aha adeeggan tooska ah. La-taliye ayaa kuu sharxi kara. Dir 0 si aad ugu noqoto liiska.
return-counsellor-sent = Mahadsanid. La-taliyaha laabashada ayaa halkan kaaga jawaabi doona. Su'aalahaagu waa qarsoodi. Dir 0 si aad ugu noqoto liiska.

## Resettlement and UNHCR
resettlement-menu = Dib u dejin iyo UNHCR. Ku jawaab lambar:
resettlement-menu-when = Dib u dejin: goorma?
resettlement-menu-iom = Waxa IOM aysan samayn
resettlement-menu-unhcr = Sida loola xiriiro UNHCR
resettlement-menu-travel = La i aqbalay: safarka
resettlement-when = IOM ma go'aamiso dib u dejinta. UNHCR iyo dalalka ayaa go'aamiya. Qofna halkan ma sheegi karo goorta ama in ay dhici doonto. Dir 0 si aad ugu noqoto liiska.
resettlement-iom = IOM ma qabato wareysiyada go'aaminta sharciga qaxootiga. IOM ma dooranto dadka dib loo dejinayo. IOM dadka ma masaafuriso. Dir 0 si aad ugu noqoto liiska.
resettlement-unhcr = Arrimaha sharciga qaxootiga ama dib u dejinta, la xiriir UNHCR Indonesia.
resettlement-unhcr-contacts = Xiriirka UNHCR ee { $city }:
    { $contacts }
    Dir 0 si aad ugu noqoto liiska.
resettlement-unhcr-none = Weli ma hayno xiriirka UNHCR ee { $city }. Dir 0 si aad ugu noqoto liiska.
resettlement-unhcr-none-yet = Weli ma hayno xiriirka UNHCR ee magaalo kasta. Dir 0 si aad ugu noqoto liiska.
resettlement-travel-sent = Mahadsanid. Shaqaaluhu halkan ayay kaaga jawaabi doonaan su'aalaha safarka (tigidh, baaritaan caafimaad, taariikh). Dir 0 si aad ugu noqoto liiska.

## Health and housing
health-menu = Caafimaad iyo guri. Ku jawaab lambar:
health-menu-medical = Dhakhtar baan rabaa
health-menu-interpreter = Turjumaan dhakhtarka
health-menu-housing = Dhibaato xagga guriga
health-medical = Haddii ay degdeg tahay, wac 112. Dhibaatooyinka kale ee caafimaadka u sheeg shaqaalaha IOM. IOM waxay kuu diri kartaa rug caafimaad.
health-clinic-contacts = Rugaha caafimaadka ee { $city }:
    { $contacts }
    Dir 0 si aad ugu noqoto liiska.
health-clinic-none = Weli ma hayno rug caafimaad oo { $city } ah. U sheeg shaqaalaha IOM. Dir 0 si aad ugu noqoto liiska.
health-clinic-none-yet = Weli ma hayno rug caafimaad magaalo kasta. U sheeg shaqaalaha IOM. Dir 0 si aad ugu noqoto liiska.
health-interpreter = IOM waxay turjumaan u diri kartaa ballanta caafimaadka. Shaqaalaha goor hore u sheeg taariikhda iyo meesha. Dir 0 si aad ugu noqoto liiska.
health-housing-describe = Fadlan dhibaatada guriga ku sheeg ereyo kooban.
health-housing-sent = Mahadsanid. Shaqaaluhu halkan ayay kaaga jawaabi doonaan dhibaatada guriga. Dir 0 si aad ugu noqoto liiska.

## Safety
safeguarding-reply = Mahadsanid inaad noo sheegtay. Haddii aad hadda khatar ku jirto, wac 112. Kormeere ayaa halkan fariin kuu soo diri doona sida ugu dhakhsaha badan.

## Talking to a person
human-waiting = Mahadsanid. Qof ayaa halkan kaaga jawaabi doona dhowaan. Hadda wax kale ayaad qori kartaa. Dir 0 si aad ugu noqoto liiska.
not-understood = Waan ka xumahay, ma fahmin. Fadlan ku jawaab lambar liiska ku jira.
offer-human = Weli ma fahmin. Dir 1 si aad qof ula hadasho, ama 0 si aad ugu noqoto liiska.

## Other channels (WhatsApp)
# Reply to a voice note, photo or document: a person will handle it.
media-received = Mahadsanid. Qof ayaa dhageysan doona ama eegi doona waxa aad soo dirtay, halkanna kaaga jawaabi doona. Dir 0 si aad ugu noqoto liiska.
# Reply to a location, sticker, contact card or anything else we cannot read.
unsupported-message = Waan ka xumahay, waxaan akhriyi karaa oo keliya qoraal, fariin cod ah, sawir iyo dukumeenti. Fadlan qor su'aashaada, ama dir 0 si aad ugu noqoto liiska.
# The button that opens a WhatsApp list menu (at most 20 characters).
menu-button = Dooro

## Working hours and closing (interpreter queue)
after-hours = Mahadsanid. Xafiisku hadda waa xiran yahay. Qof ayaa kaaga jawaabi doona { $day ->
        [today] maanta
        [tomorrow] berri
        [mon] Isniinta
        [tue] Talaadada
        [wed] Arbacada
        [thu] Khamiista
        [fri] Jimcaha
        [sat] Sabtida
        [sun] Axadda
       *[other] maalinta shaqo ee xigta
    } laga bilaabo saacadda { $time }.
ticket-closed = Wadahadalkan waa la xiray. Haddii aad 24 saac gudahood mar kale soo qorto, isla qofkii ayaa kaaga jawaabi doona. Dir 0 si aad ugu noqoto liiska.

## Notices on and off
stopped = Ogeysiis kale nagama heli doontid. Weli waad noo qori kartaa. Dir START si aad mar kale u hesho ogeysiisyada.
started = Mar kale ayaad heli doontaa ogeysiisyada. Dir 0 si aad ugu noqoto liiska.
