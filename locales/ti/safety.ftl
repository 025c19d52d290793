# Replies about safety. Machine-drafted, NOT reviewed by a native speaker: see locales/REVIEW.md.

safeguarding-concern = ስለ ዝነገርኩምና የቐንየልና። ሓላፊ ብዝተኻእለ መጠን ቀልጢፉ ኣብዚ ክጽሕፈልኩም እዩ።
