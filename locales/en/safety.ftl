# Replies about safety. Machine-drafted, NOT reviewed by a native speaker: see locales/REVIEW.md.

# A worrying message that is not an emergency (safeguarding.txt [concern]): no emergency number.
safeguarding-concern = Thank you for telling us. A supervisor will write to you here as soon as possible.
