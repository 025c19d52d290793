-- Accounts, desk, directory, broadcasts (the staff half).
SELECT 1;
