# Replies about safety. Machine-drafted, NOT reviewed by a native speaker: see locales/REVIEW.md.

safeguarding-concern = ممنون که به ما گفتید. یک سرپرست در اولین فرصت همین جا به شما پیام می دهد.
