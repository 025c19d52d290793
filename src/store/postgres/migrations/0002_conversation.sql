-- Intake, outbox, sessions, media (the conversation half).
SELECT 1;
