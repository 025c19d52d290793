# Replies about safety. Machine-drafted, NOT reviewed by a native speaker: see locales/REVIEW.md.

safeguarding-concern = Mahadsanid inaad noo sheegtay. Kormeere ayaa halkan kuugu soo qori doona sida ugu dhakhsaha badan.
