package models

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"
)

// demoSKU is one variant in the demo catalog. Prices are strings so that
// they stay exact.
type demoSKU struct {
	variant, caption    string
	price, market, cost string
	stock, sales        int
	withdrawn           bool
	image               string // file in static/img/sku/; empty means the SPU's
}

// demoSPU is one product in the demo catalog.
type demoSPU struct {
	name, desc, image string
	skus              []demoSKU
}

// demoCategory is a top-level category in the demo catalog.
type demoCategory struct {
	name string
	spus []demoSPU
}

// demoCatalog is what LoadDemo loads: 5 categories, 12 products and 31
// SKUs, among them one sold out, a few nearly sold out and one withdrawn.
func demoCatalog() []demoCategory {
	return []demoCategory{
		{name: "手机", spus: []demoSPU{
			{name: "Apple iPhone 15", image: "iphone15-black", desc: "灵动岛，4800 万像素主摄，USB-C 接口。", skus: []demoSKU{
				{variant: "128GB 黑色", caption: "A16 仿生芯片，4800 万像素主摄，支持移动联通电信 5G", price: "5999.00", market: "6299.00", cost: "4800.00", stock: 120, sales: 356},
				{variant: "256GB 黑色", caption: "大容量更从容，灵动岛带来全新交互", price: "6999.00", market: "7299.00", cost: "5600.00", stock: 80, sales: 210},
				{variant: "128GB 粉色", caption: "全新配色，磨砂质感玻璃背板", price: "5999.00", market: "6299.00", cost: "4800.00", stock: 3, sales: 188, image: "iphone15-pink"},
				{variant: "256GB 蓝色", caption: "热门配色，补货中", price: "6999.00", market: "7299.00", cost: "5600.00", stock: 0, sales: 97, image: "iphone15-blue"},
			}},
			{name: "华为 HUAWEI Mate 60 Pro", image: "mate60pro", desc: "卫星通话，超可靠玄武架构，鸿蒙操作系统。", skus: []demoSKU{
				{variant: "12GB+256GB 雅川青", caption: "超可靠玄武架构，全焦段超清影像", price: "6499.00", market: "6999.00", cost: "5200.00", stock: 45, sales: 520},
				{variant: "12GB+512GB 雅丹黑", caption: "卫星通话，超可靠昆仑玻璃", price: "6999.00", market: "7499.00", cost: "5600.00", stock: 18, sales: 260},
				{variant: "12GB+1TB 白沙银", caption: "1TB 超大存储，旗舰影像", price: "7999.00", market: "8499.00", cost: "6400.00", stock: 9, sales: 74},
			}},
			{name: "小米 Xiaomi 14", image: "xiaomi14", desc: "徕卡光学 Summilux 镜头，第三代骁龙 8 移动平台。", skus: []demoSKU{
				{variant: "12GB+256GB 白色", caption: "徕卡光学镜头，光影猎人 900 传感器", price: "3999.00", market: "4299.00", cost: "3200.00", stock: 150, sales: 640},
				{variant: "16GB+512GB 黑色", caption: "第三代骁龙 8，澎湃 OS", price: "4599.00", market: "4899.00", cost: "3700.00", stock: 60, sales: 310},
				{variant: "16GB+1TB 岩石青", caption: "1TB 大存储，90W 有线快充", price: "4999.00", market: "5299.00", cost: "4000.00", stock: 26, sales: 122},
				{variant: "8GB+256GB 雪山粉", caption: "已下架", price: "3699.00", market: "3999.00", cost: "3000.00", stock: 40, sales: 58, withdrawn: true},
			}},
		}},
		{name: "笔记本电脑", spus: []demoSPU{
			{name: "Apple MacBook Air 13 英寸 M3", image: "macbookair", desc: "M3 芯片，18 小时电池续航，轻至 1.24 公斤。", skus: []demoSKU{
				{variant: "8GB+256GB 午夜色", caption: "M3 芯片，Liquid 视网膜显示屏", price: "7999.00", market: "8999.00", cost: "6500.00", stock: 40, sales: 150},
				{variant: "16GB+512GB 星光色", caption: "更大内存，多任务更流畅", price: "10499.00", market: "11499.00", cost: "8600.00", stock: 25, sales: 90},
				{variant: "24GB+1TB 深空灰色", caption: "顶配之选，剪辑开发两相宜", price: "13999.00", market: "14999.00", cost: "11500.00", stock: 4, sales: 21},
			}},
			{name: "联想 ThinkPad X1 Carbon", image: "thinkpadx1", desc: "碳纤维机身，经典小红点，商务旗舰。", skus: []demoSKU{
				{variant: "酷睿 Ultra 5 16GB 512GB 黑色", caption: "14 英寸 2.8K OLED 屏，轻至 1.09 公斤", price: "9999.00", market: "10999.00", cost: "8200.00", stock: 30, sales: 66},
				{variant: "酷睿 Ultra 7 32GB 1TB 黑色", caption: "32GB 大内存，军标品质，商务首选", price: "12999.00", market: "13999.00", cost: "10600.00", stock: 12, sales: 45},
			}},
		}},
		{name: "耳机音箱", spus: []demoSPU{
			{name: "索尼 Sony WH-1000XM5 头戴式降噪耳机", image: "wh1000xm5-black", desc: "双芯驱动 8 麦克风，智能降噪，30 小时续航。", skus: []demoSKU{
				{variant: "黑色", caption: "旗舰降噪，高解析度音质，佩戴轻盈", price: "2499.00", market: "2999.00", cost: "1800.00", stock: 90, sales: 430},
				{variant: "铂金银", caption: "经典银色，智能免摘对话", price: "2499.00", market: "2999.00", cost: "1800.00", stock: 2, sales: 260, image: "wh1000xm5-silver"},
				{variant: "午夜蓝", caption: "限定配色，3 分钟快充听 3 小时", price: "2599.00", market: "2999.00", cost: "1850.00", stock: 15, sales: 88, image: "wh1000xm5-blue"},
			}},
			{name: "Apple AirPods Pro (第二代)", image: "airpodspro", desc: "主动降噪，自适应音频，USB-C 充电盒。", skus: []demoSKU{
				{variant: "USB-C 充电盒", caption: "主动降噪能力提升至两倍，个性化空间音频", price: "1899.00", market: "1999.00", cost: "1300.00", stock: 200, sales: 980},
			}},
			{name: "漫步者 EDIFIER M230 蓝牙音箱", image: "edifier-m230", desc: "复古造型，蓝牙 5.3，桌面好声音。", skus: []demoSKU{
				{variant: "经典黑", caption: "三分频设计，低音饱满，支持 USB 声卡", price: "399.00", market: "499.00", cost: "260.00", stock: 150, sales: 540},
				{variant: "象牙白", caption: "简约配色，适配多种桌面风格", price: "399.00", market: "499.00", cost: "260.00", stock: 110, sales: 210},
			}},
		}},
		{name: "相机", spus: []demoSPU{
			{name: "佳能 Canon EOS R50 微单相机", image: "eosr50", desc: "2420 万像素，4K 视频，小巧轻便的入门微单。", skus: []demoSKU{
				{variant: "RF-S 18-45mm 套机 黑色", caption: "新手友好，自动场景识别，Vlog 好帮手", price: "5499.00", market: "5999.00", cost: "4500.00", stock: 22, sales: 64},
				{variant: "RF-S 18-45mm 套机 白色", caption: "白色机身，颜值与画质兼得", price: "5599.00", market: "5999.00", cost: "4600.00", stock: 8, sales: 31},
			}},
			{name: "索尼 Sony ZV-E10 II Vlog 微单相机", image: "zve10", desc: "APS-C 画幅，4K 60p，可换镜头 Vlog 相机。", skus: []demoSKU{
				{variant: "16-50mm 套机 黑色", caption: "侧翻屏自拍，产品展示模式", price: "6999.00", market: "7499.00", cost: "5800.00", stock: 35, sales: 57},
				{variant: "单机身 白色", caption: "自选镜头，灵活搭配", price: "6199.00", market: "6499.00", cost: "5100.00", stock: 14, sales: 23},
			}},
		}},
		{name: "智能手表", spus: []demoSPU{
			{name: "Apple Watch Series 9 GPS 45mm", image: "applewatch9", desc: "S9 芯片，双指互点两下，更亮的显示屏。", skus: []demoSKU{
				{variant: "午夜色铝金属表壳 运动型表带", caption: "血氧与心电图，体温感应", price: "3199.00", market: "3399.00", cost: "2500.00", stock: 55, sales: 240},
				{variant: "星光色铝金属表壳 运动型表带", caption: "经典配色，全天候视网膜显示屏", price: "3199.00", market: "3399.00", cost: "2500.00", stock: 38, sales: 175},
				{variant: "粉色铝金属表壳 运动型表带", caption: "清新粉色，精准健康监测", price: "3199.00", market: "3399.00", cost: "2500.00", stock: 5, sales: 96},
			}},
			{name: "华为 HUAWEI WATCH GT 4 46mm", image: "watchgt4", desc: "14 天超长续航，科学运动健康管理。", skus: []demoSKU{
				{variant: "曜石黑 氟橡胶表带", caption: "八边形设计，14 天长续航", price: "1488.00", market: "1588.00", cost: "1000.00", stock: 70, sales: 330},
				{variant: "山茶棕 真皮表带", caption: "真皮表带，商务与运动皆宜", price: "1688.00", market: "1788.00", cost: "1150.00", stock: 33, sales: 142},
			}},
		}},
	}
}

// CatalogEmpty reports whether there are no goods categories yet.
func (s *Catalog) CatalogEmpty(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Category{}).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count categories: %w", err)
	}
	return n == 0, nil
}

// LoadDemo fills an empty catalog with demo categories, products and SKUs
// in one transaction. When any category exists it changes nothing and
// returns false.
func (s *Catalog) LoadDemo(ctx context.Context) (loaded bool, err error) {
	err = s.pool.Transact(ctx, func(tx *Tx) error {
		loaded = false
		var n int64
		if err := tx.Model(&Category{}).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		now := tx.Now
		for _, dc := range demoCatalog() {
			c := Category{CreateTime: now, UpdateTime: now, Name: dc.name}
			if err := tx.Create(&c).Error; err != nil {
				return fmt.Errorf("category %s: %w", dc.name, err)
			}
			for _, dp := range dc.spus {
				p := SPU{CreateTime: now, UpdateTime: now, Name: dp.name, CategoryID: c.ID, DescDetail: dp.desc}
				for _, ds := range dp.skus {
					p.Sales += ds.sales
				}
				if err := tx.Create(&p).Error; err != nil {
					return fmt.Errorf("spu %s: %w", dp.name, err)
				}
				skus := make([]SKU, 0, len(dp.skus))
				for _, ds := range dp.skus {
					image := ds.image
					if image == "" {
						image = dp.image
					}
					skus = append(skus, SKU{
						CreateTime:   now,
						UpdateTime:   now,
						Name:         dp.name + " " + ds.variant,
						Caption:      ds.caption,
						SPUID:        p.ID,
						CategoryID:   c.ID,
						Price:        decimal.RequireFromString(ds.price),
						MarketPrice:  decimal.RequireFromString(ds.market),
						CostPrice:    decimal.RequireFromString(ds.cost),
						Stock:        ds.stock,
						Sales:        ds.sales,
						IsLaunched:   !ds.withdrawn,
						DefaultImage: "/static/img/sku/" + image + ".svg",
					})
				}
				if err := tx.Create(&skus).Error; err != nil {
					return fmt.Errorf("skus of %s: %w", dp.name, err)
				}
				if err := RecordInitialStock(tx, skus); err != nil {
					return err
				}
			}
		}
		loaded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("load demo catalog: %w", err)
	}
	return loaded, nil
}
