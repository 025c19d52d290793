# English: the base locale. Keep every message short (one SMS where possible), plain words,
# one idea per sentence. GSM-7 characters only: no smart quotes, no dashes other than "-".
# Never put an amount or a date in a text: those come from data staff maintain ($date, $city).

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = English
# First line of the language menu; the numbered list of languages follows it.
language-menu = Choose your language. Reply with a number:

## Consent and privacy (first contact, after the language)
consent-notice = To help you, we keep your number, language and messages. Only helpdesk staff see them.
consent-agree = I agree
consent-more = Tell me more
privacy-info = We keep your number, language, city and messages for { $retain_days } days at most. We never ask about your asylum story, religion or ethnicity.
privacy-rights = Send STOP to end notices. Send DELETE to ask us to delete your data. Send PRIVACY to read this again.
delete-requested = We will delete your data. Staff will confirm by message. You can write to us again any time.

## Main menu
welcome = Thank you. Ask here about the monthly allowance, school, going home, resettlement and health. Answers are free.
main-menu = Main menu. Reply with a number:
main-menu-payments = Monthly allowance
main-menu-schooling = School and classes
main-menu-return = Going home (voluntary)
main-menu-resettlement = Resettlement and UNHCR
main-menu-health = Health and housing
main-menu-person = Talk to a person

## Monthly payment
payments-menu = Monthly allowance. Reply with a number:
payments-menu-date = Next allowance date
payments-menu-problem = Money missing or wrong
payments-menu-rules = How the allowance works
payments-city = Which city do you live in? Reply with a number:
payments-date = Next allowance in { $city }: { $date }. Send 0 for menu.
payments-no-dates = We do not have the allowance dates yet. Staff will send them by message. Send 0 for menu.
payments-date-unknown = We do not have the next date for { $city } yet. Staff will send it by message. Send 0 for menu.
payments-rules = IOM gives a monthly allowance to people in its care. The amount depends on the size of your family. Staff send the dates by message. Send 0 for menu.
payments-case = Please send your IOM case number (only the digits).
payments-case-invalid = That is not a case number. Please send only the digits, for example 12345.
payments-problem-sent = Thank you. Staff will check your allowance and answer you here. Send 0 for menu.

## School and classes
schooling-menu = School and classes. Reply with a number:
schooling-menu-children = School for children
schooling-menu-informal = Informal classes
schooling-menu-vocational = Vocational training
schooling-menu-english = English classes
schooling-menu-register = I want to register
schooling-children = Children can go to school in Indonesia. IOM can help with enrolment. To ask for a place, send 1:
schooling-informal = There are informal classes for children and adults in community housing. Ask staff for the times. Send 0 for menu.
schooling-vocational = Some cities have vocational training, like sewing or computers. Places are few. Send 0 for menu.
schooling-english = Some cities have English classes. To join, send 1:
schooling-register-who = Who is it for? Reply with a number:
schooling-register-child = My child
schooling-register-me = Me
schooling-child-age = How old is the child? Send the age in years, for example 8.
schooling-child-age-invalid = Please send the age as a number from 3 to 18, for example 8.
schooling-interest = What do you want to learn? Reply with a number:
schooling-registered = Thank you. Staff will message you here about a place. Send 0 for menu.

## Going home (assisted voluntary return)
return-menu = Going home (voluntary return). Reply with a number:
return-menu-what = About voluntary return
return-menu-choice = Is it my choice?
return-menu-who = Who can go?
return-menu-counsellor = Talk to a counsellor
return-what = If you want to go back to your country, IOM can help: travel, documents and some support after you arrive.
return-iom-contacts = IOM office in { $city }:
    { $contacts }
    Send 0 for menu.
return-iom-none = We do not have an IOM office contact for { $city } yet. Send 0 for menu.
return-iom-none-yet = We do not have IOM office contacts for any city yet. Send 0 for menu.
return-choice = It is always your choice. It is free. What you tell us stays private. Asking does not change your case. Send 0 for menu.
return-who = It depends on your country and your situation. IOM staff decide this, not this automatic service. A counsellor can explain. Send 0 for menu.
return-counsellor-sent = Thank you. A return counsellor will answer you here. Your questions stay private. Send 0 for menu.

## Resettlement and UNHCR
resettlement-menu = Resettlement and UNHCR. Reply with a number:
resettlement-menu-when = When is my resettlement?
resettlement-menu-iom = What IOM does not do
resettlement-menu-unhcr = How to contact UNHCR
resettlement-menu-travel = Accepted: travel help
resettlement-when = IOM does not decide resettlement. UNHCR and the countries decide. Nobody here can say when or if it will happen. Send 0 for menu.
resettlement-iom = IOM does not do refugee status interviews. IOM does not choose people for resettlement. IOM does not deport people. Send 0 for menu.
resettlement-unhcr = For refugee status or resettlement, contact UNHCR Indonesia.
resettlement-unhcr-contacts = UNHCR contacts in { $city }:
    { $contacts }
    Send 0 for menu.
resettlement-unhcr-none = We do not have a UNHCR contact for { $city } yet. Send 0 for menu.
resettlement-unhcr-none-yet = We do not have UNHCR contacts for any city yet. Send 0 for menu.
resettlement-travel-sent = Thank you. Staff will answer your travel questions here (ticket, medical check, date). Send 0 for menu.

## Health and housing
health-menu = Health and housing. Reply with a number:
health-menu-medical = I need a doctor
health-menu-interpreter = Interpreter for a doctor
health-menu-housing = Problem in my housing
health-medical = In an emergency call 112. For other health problems tell IOM staff. IOM can send you to a clinic.
health-clinic-contacts = Clinics in { $city }:
    { $contacts }
    Send 0 for menu.
health-clinic-none = We do not have a clinic for { $city } yet. Tell IOM staff. Send 0 for menu.
health-clinic-none-yet = We do not have clinics for any city yet. Tell IOM staff. Send 0 for menu.
health-interpreter = IOM can send an interpreter to a medical appointment. Tell staff the date and place early. Send 0 for menu.
health-housing-describe = Please tell us the housing problem in a few words.
health-housing-sent = Thank you. Staff will answer you here about the housing problem. Send 0 for menu.

## Safety
safeguarding-reply = Thank you for telling us. If you are in danger now, call 112. A supervisor will message you here as soon as possible.

## Talking to a person
human-waiting = Thank you. A person will answer you here soon. You can write more now. Send 0 for the menu.
not-understood = Sorry, I did not understand. Please reply with a number from the list.
offer-human = I still did not understand. Reply 1 to talk to a person, or 0 for the menu.

## Other channels (WhatsApp)
# Reply to a voice note, photo or document: a person will handle it.
media-received = Thank you. A person will listen to or look at what you sent and answer you here. Send 0 for the menu.
# Reply to a location, sticker, contact card or anything else we cannot read.
unsupported-message = Sorry, I can read text, voice notes, photos and documents only. Please write your question, or send 0 for the menu.
# The button that opens a WhatsApp list menu (at most 20 characters).
menu-button = Choose

## Working hours and closing (interpreter queue)
after-hours = Thank you. The office is closed now. A person will answer you { $day ->
        [today] today
        [tomorrow] tomorrow
        [mon] on Monday
        [tue] on Tuesday
        [wed] on Wednesday
        [thu] on Thursday
        [fri] on Friday
        [sat] on Saturday
        [sun] on Sunday
       *[other] on the next working day
    } from { $time }.
ticket-closed = This conversation is closed. If you write again within 24 hours, the same person will answer. Send 0 for the menu.

## Notices on and off
stopped = You will get no more notices from us. You can still write to us. Send START to get notices again.
started = Notices are on again. Send 0 for the menu.
