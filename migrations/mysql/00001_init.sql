-- +goose Up
CREATE TABLE tb_users (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    password      VARCHAR(128) NOT NULL,
    last_login    DATETIME(6) NULL,
    is_superuser  BOOLEAN NOT NULL DEFAULT FALSE,
    username      VARCHAR(150) NOT NULL UNIQUE,
    email         VARCHAR(254) NOT NULL DEFAULT '',
    is_staff      BOOLEAN NOT NULL DEFAULT FALSE,
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    date_joined   DATETIME(6) NOT NULL,
    mobile        VARCHAR(11) NOT NULL UNIQUE,
    default_address_id BIGINT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tb_address (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time DATETIME(6) NOT NULL,
    update_time DATETIME(6) NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES tb_users (id) ON DELETE CASCADE,
    title       VARCHAR(20) NOT NULL,
    receiver    VARCHAR(20) NOT NULL,
    province    VARCHAR(20) NOT NULL,
    city        VARCHAR(20) NOT NULL,
    district    VARCHAR(20) NOT NULL,
    place       VARCHAR(50) NOT NULL,
    mobile      VARCHAR(11) NOT NULL,
    tel         VARCHAR(20) NOT NULL DEFAULT '',
    email       VARCHAR(30) NOT NULL DEFAULT '',
    is_deleted  BOOLEAN NOT NULL DEFAULT FALSE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_address_user_id ON tb_address (user_id, is_deleted);
ALTER TABLE tb_users ADD CONSTRAINT tb_users_default_address_fk
    FOREIGN KEY (default_address_id) REFERENCES tb_address (id) ON DELETE SET NULL;

CREATE TABLE tb_goods_category (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time DATETIME(6) NOT NULL,
    update_time DATETIME(6) NOT NULL,
    name        VARCHAR(10) NOT NULL,
    parent_id   BIGINT NULL REFERENCES tb_goods_category (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tb_spu (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time DATETIME(6) NOT NULL,
    update_time DATETIME(6) NOT NULL,
    name        VARCHAR(50) NOT NULL,
    sales       INTEGER NOT NULL DEFAULT 0 CHECK (sales >= 0),
    comments    INTEGER NOT NULL DEFAULT 0,
    category_id BIGINT NOT NULL REFERENCES tb_goods_category (id),
    desc_detail TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tb_sku (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time   DATETIME(6) NOT NULL,
    update_time   DATETIME(6) NOT NULL,
    name          VARCHAR(50) NOT NULL,
    caption       VARCHAR(100) NOT NULL DEFAULT '',
    spu_id        BIGINT NOT NULL REFERENCES tb_spu (id),
    category_id   BIGINT NOT NULL REFERENCES tb_goods_category (id),
    price         NUMERIC(10, 2) NOT NULL CHECK (price >= 0),
    cost_price    NUMERIC(10, 2) NOT NULL DEFAULT 0,
    market_price  NUMERIC(10, 2) NOT NULL DEFAULT 0,
    stock         INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    sales         INTEGER NOT NULL DEFAULT 0 CHECK (sales >= 0),
    comments      INTEGER NOT NULL DEFAULT 0,
    is_launched   BOOLEAN NOT NULL DEFAULT TRUE,
    default_image VARCHAR(200) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_sku_category ON tb_sku (category_id, is_launched);
CREATE INDEX tb_sku_spu ON tb_sku (spu_id);

CREATE TABLE tb_order_info (
    order_id     VARCHAR(64) PRIMARY KEY,
    create_time  DATETIME(6) NOT NULL,
    update_time  DATETIME(6) NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES tb_users (id),
    address_id   BIGINT NOT NULL REFERENCES tb_address (id),
    total_count  INTEGER NOT NULL CHECK (total_count >= 0),
    total_amount NUMERIC(10, 2) NOT NULL,
    freight      NUMERIC(10, 2) NOT NULL,
    pay_method   SMALLINT NOT NULL CHECK (pay_method IN (1, 2)),
    status       SMALLINT NOT NULL CHECK (status BETWEEN 1 AND 6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_order_info_user ON tb_order_info (user_id, create_time);

CREATE TABLE tb_order_goods (
    id           BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time  DATETIME(6) NOT NULL,
    update_time  DATETIME(6) NOT NULL,
    order_id     VARCHAR(64) NOT NULL REFERENCES tb_order_info (order_id) ON DELETE CASCADE,
    sku_id       BIGINT NOT NULL REFERENCES tb_sku (id),
    count        INTEGER NOT NULL CHECK (count > 0),
    price        NUMERIC(10, 2) NOT NULL,
    comment      TEXT NOT NULL,
    score        SMALLINT NOT NULL DEFAULT 5,
    is_anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    is_commented BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (order_id, sku_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_order_goods_sku ON tb_order_goods (sku_id);

-- +goose Down
DROP TABLE tb_order_goods;
DROP TABLE tb_order_info;
DROP TABLE tb_sku;
DROP TABLE tb_spu;
DROP TABLE tb_goods_category;
ALTER TABLE tb_users DROP FOREIGN KEY tb_users_default_address_fk;
DROP TABLE tb_address;
DROP TABLE tb_users;
