-- +goose Up
-- Sessions end on the server: a session carries the generation its user
-- had at login and is refused once the user's generation moves on (logout,
-- a password change, deactivation).
ALTER TABLE tb_users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
-- Usernames are unique whatever their case (they are ASCII: letters,
-- digits, _ and -). Existing case-duplicates make this statement, and so
-- the whole migration, fail and roll back: rename them first (README,
-- Security).
CREATE UNIQUE INDEX tb_users_username_lower ON tb_users (LOWER(username));

-- +goose Down
DROP INDEX tb_users_username_lower;
ALTER TABLE tb_users DROP COLUMN session_generation;
