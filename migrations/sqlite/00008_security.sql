-- +goose Up
-- Sessions end on the server: a session carries the generation its user
-- had at login and is refused once the user's generation moves on (logout,
-- a password change, deactivation).
ALTER TABLE tb_users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tb_users DROP COLUMN session_generation;
