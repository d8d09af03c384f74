-- +goose Up
-- The catalog as the Django shop models it. tb_goods_category already has
-- parent_id: three levels (a SKU's and an SPU's category_id is the third,
-- Django's category3; the first two follow parent_id, so they are not
-- copied onto tb_spu where they could disagree). Existing rows stay valid:
-- a SKU without specifications or images, an SPU without a brand, a
-- category without a channel all still show.

-- Brands (Django's goods.Brand).
CREATE TABLE tb_brands (
    id           BIGSERIAL PRIMARY KEY,
    create_time  TIMESTAMPTZ NOT NULL,
    update_time  TIMESTAMPTZ NOT NULL,
    name         VARCHAR(20) NOT NULL,
    logo         VARCHAR(200) NOT NULL DEFAULT '',
    first_letter VARCHAR(1) NOT NULL DEFAULT ''
);
ALTER TABLE tb_spu ADD COLUMN brand_id BIGINT NULL REFERENCES tb_brands (id);
CREATE INDEX tb_spu_brand ON tb_spu (brand_id);

-- The home page's category menu: channel groups (one menu row each),
-- holding first-level categories in sequence, each with the URL it opens.
CREATE TABLE tb_channel_group (
    id          BIGSERIAL PRIMARY KEY,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    name        VARCHAR(20) NOT NULL
);
CREATE TABLE tb_goods_channel (
    id          BIGSERIAL PRIMARY KEY,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    group_id    BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    url         VARCHAR(50) NOT NULL DEFAULT '',
    sequence    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (category_id),
    FOREIGN KEY (group_id) REFERENCES tb_channel_group (id),
    FOREIGN KEY (category_id) REFERENCES tb_goods_category (id)
);
CREATE INDEX tb_goods_channel_group ON tb_goods_channel (group_id, sequence);

-- Specifications: an SPU's (存储, 颜色), each with its options (128GB,
-- 256GB; 黑, 白), and for each SKU one option per specification. The
-- composite key makes the option belong to the specification it is filed
-- under, and UNIQUE (sku_id, spec_id) gives one option per specification.
CREATE TABLE tb_spu_specification (
    id          BIGSERIAL PRIMARY KEY,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    spu_id      BIGINT NOT NULL,
    name        VARCHAR(20) NOT NULL,
    UNIQUE (spu_id, name),
    FOREIGN KEY (spu_id) REFERENCES tb_spu (id) ON DELETE CASCADE
);
CREATE TABLE tb_specification_option (
    id          BIGSERIAL PRIMARY KEY,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    spec_id     BIGINT NOT NULL,
    value       VARCHAR(20) NOT NULL,
    UNIQUE (spec_id, value),
    UNIQUE (id, spec_id),
    FOREIGN KEY (spec_id) REFERENCES tb_spu_specification (id) ON DELETE CASCADE
);
CREATE TABLE tb_sku_specification (
    id          BIGSERIAL PRIMARY KEY,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    sku_id      BIGINT NOT NULL,
    spec_id     BIGINT NOT NULL,
    option_id   BIGINT NOT NULL,
    UNIQUE (sku_id, spec_id),
    FOREIGN KEY (sku_id) REFERENCES tb_sku (id) ON DELETE CASCADE,
    FOREIGN KEY (spec_id) REFERENCES tb_spu_specification (id) ON DELETE CASCADE,
    FOREIGN KEY (option_id, spec_id) REFERENCES tb_specification_option (id, spec_id) ON DELETE CASCADE
);
CREATE INDEX tb_sku_specification_option ON tb_sku_specification (option_id);

-- A SKU's picture gallery, shown in sequence (ties by id).
CREATE TABLE tb_sku_image (
    id          BIGSERIAL PRIMARY KEY,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    sku_id      BIGINT NOT NULL,
    image       VARCHAR(200) NOT NULL,
    sequence    INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (sku_id) REFERENCES tb_sku (id) ON DELETE CASCADE
);
CREATE INDEX tb_sku_image_sku ON tb_sku_image (sku_id, sequence);

-- The flash sale's page shows the buyer's own result: their refusals.
CREATE INDEX tb_seckill_refusal_buyer ON tb_seckill_refusal (sale_id, user_id);

-- +goose Down
DROP INDEX tb_seckill_refusal_buyer;
DROP TABLE tb_sku_image;
DROP TABLE tb_sku_specification;
DROP TABLE tb_specification_option;
DROP TABLE tb_spu_specification;
DROP TABLE tb_goods_channel;
DROP TABLE tb_channel_group;
DROP INDEX tb_spu_brand;
ALTER TABLE tb_spu DROP COLUMN brand_id;
DROP TABLE tb_brands;
