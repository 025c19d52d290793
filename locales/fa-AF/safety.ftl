# Replies about safety. Machine-drafted, NOT reviewed by a native speaker: see locales/REVIEW.md.

safeguarding-concern = تشکر که به ما گفتید. یک مسئول هر چه زودتر همین جا به شما پیام می دهد.
