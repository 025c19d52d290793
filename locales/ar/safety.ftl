# Replies about safety. Machine-drafted, NOT reviewed by a native speaker: see locales/REVIEW.md.

safeguarding-concern = شكرا لأنك أخبرتنا. سيكتب لك مشرف هنا في أقرب وقت ممكن.
