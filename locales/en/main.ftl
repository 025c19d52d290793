# English: the base locale. Keep every message short (one SMS where possible), plain words,
# one idea per sentence. GSM-7 characters only: no smart quotes, no dashes other than "-".

## The language itself
# The language's own name, shown in the language menu of every locale.
language-name = English
# First line of the language menu; the numbered list of languages follows it.
language-menu = Choose your language. Reply with a number:

## First contact and main menu
welcome = Welcome to the IOM helpdesk. Answers are free. A person can help if the answers are not enough.
main-menu = Main menu. Reply with a number:
main-menu-payments = Monthly payment
main-menu-schooling = School and classes
main-menu-return = Going home (voluntary return)
main-menu-person = Talk to a person

## Answers
payments-info = IOM pays the monthly support once a month. Staff send the date by message. If a payment is missing, send AGENT. Send 0 for menu.
schooling-info = Children can go to school. There are also classes for adults. To ask about a place, talk to a person. Send 0 for menu.
return-info = IOM can help you go back home if you want. It is your choice, free and private. A person can tell you more. Send 0 for menu.

## Talking to a person
human-waiting = Thank you. A person will answer you here soon. You can write more now. Send 0 for the menu.
not-understood = Sorry, I did not understand. Please reply with a number from the list.
offer-human = I still did not understand. Reply 1 to talk to a person, or 0 for the menu.

## Notices on and off
stopped = You will get no more notices from us. You can still write to us. Send START to get notices again.
started = Notices are on again. Send 0 for the menu.
