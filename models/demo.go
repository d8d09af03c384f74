package models

import (
	"context"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// demoSKU is one variant in the demo catalog. Prices are strings so that
// they stay exact.
type demoSKU struct {
	variant, caption    string
	price, market, cost string
	stock, sales        int
	withdrawn           bool
	image               string   // file in static/img/sku/; empty means the SPU's
	opts                []string // its option of each of the SPU's specs, in order
}

// demoSpec is a specification of a demo product and its options.
type demoSpec struct {
	name   string
	values []string
}

// demoSPU is one product in the demo catalog, filed under a third-level
// category (leaf) of its top-level one. Its SKUs' galleries are their own
// picture, then gallery-detail.svg and gallery-box.svg.
type demoSPU struct {
	name, desc, image string
	brand, leaf       string
	gallery           string
	specs             []demoSpec
	skus              []demoSKU
}

// demoCategory is a top-level category in the demo catalog with its
// second and third levels.
type demoCategory struct {
	name string
	subs []demoSub
	spus []demoSPU
}

// demoSub is a second-level category and its third-level ones.
type demoSub struct {
	name   string
	leaves []string
}

// demoBrands are the demo catalog's brands: name and first letter.
var demoBrands = [][2]string{
	{"Apple", "A"}, {"华为", "H"}, {"小米", "X"}, {"联想", "L"}, {"索尼", "S"}, {"漫步者", "M"}, {"佳能", "J"},
}

// demoGroups are the home page menu's rows, with their top-level categories.
var demoGroups = []struct {
	name string
	cats []string
}{
	{"手机 相机", []string{"手机", "相机"}},
	{"电脑 办公", []string{"笔记本电脑"}},
	{"影音 穿戴", []string{"耳机音箱", "智能手表"}},
}

// demoLater are products added after the first catalog, so that the first
// one's SKU ids stay what tests and bookmarks know (1 to 31); each names
// its top-level category.
func demoLater() map[string][]demoSPU {
	return map[string][]demoSPU{"手机": {
		{name: "小米 Redmi K70", image: "redmik70-black", brand: "小米", leaf: "游戏手机", gallery: "redmik70",
			desc:  "第二代骁龙 8，2K 中国屏，120W 秒充。",
			specs: []demoSpec{{"存储", []string{"128GB", "256GB"}}, {"颜色", []string{"黑色", "白色"}}},
			skus: []demoSKU{
				{variant: "128GB 黑色", opts: []string{"128GB", "黑色"}, caption: "2K 高光屏，5000mAh 大电池", price: "2499.00", market: "2699.00", cost: "1900.00", stock: 60, sales: 420},
				{variant: "128GB 白色", opts: []string{"128GB", "白色"}, caption: "晴雪白配色，素皮质感", price: "2499.00", market: "2699.00", cost: "1900.00", stock: 35, sales: 260, image: "redmik70-white"},
				{variant: "256GB 黑色", opts: []string{"256GB", "黑色"}, caption: "大存储更从容", price: "2799.00", market: "2999.00", cost: "2100.00", stock: 48, sales: 310},
				{variant: "256GB 白色", opts: []string{"256GB", "白色"}, caption: "大存储，晴雪白", price: "2799.00", market: "2999.00", cost: "2100.00", stock: 22, sales: 150, image: "redmik70-white"},
			}},
	}}
}

// demoCatalog is what LoadDemo loads first: 5 top-level categories with
// their second and third levels, 12 products and 31 SKUs, among them one
// sold out, a few nearly sold out and one withdrawn; then demoLater.
func demoCatalog() []demoCategory {
	return []demoCategory{
		{name: "手机", subs: []demoSub{{"手机通讯", []string{"手机", "游戏手机"}}, {"手机配件", []string{"手机壳", "充电器"}}}, spus: []demoSPU{
			{name: "Apple iPhone 15", brand: "Apple", leaf: "手机", gallery: "iphone15", specs: []demoSpec{{"存储", []string{"128GB", "256GB"}}, {"颜色", []string{"黑色", "粉色", "蓝色"}}}, image: "iphone15-black", desc: "灵动岛，4800 万像素主摄，USB-C 接口。", skus: []demoSKU{
				{variant: "128GB 黑色", opts: []string{"128GB", "黑色"}, caption: "A16 仿生芯片，4800 万像素主摄，支持移动联通电信 5G", price: "5999.00", market: "6299.00", cost: "4800.00", stock: 120, sales: 356},
				{variant: "256GB 黑色", opts: []string{"256GB", "黑色"}, caption: "大容量更从容，灵动岛带来全新交互", price: "6999.00", market: "7299.00", cost: "5600.00", stock: 80, sales: 210},
				{variant: "128GB 粉色", opts: []string{"128GB", "粉色"}, caption: "全新配色，磨砂质感玻璃背板", price: "5999.00", market: "6299.00", cost: "4800.00", stock: 3, sales: 188, image: "iphone15-pink"},
				{variant: "256GB 蓝色", opts: []string{"256GB", "蓝色"}, caption: "热门配色，补货中", price: "6999.00", market: "7299.00", cost: "5600.00", stock: 0, sales: 97, image: "iphone15-blue"},
			}},
			{name: "华为 HUAWEI Mate 60 Pro", brand: "华为", leaf: "手机", gallery: "mate60pro", specs: []demoSpec{{"版本", []string{"12GB+256GB", "12GB+512GB", "12GB+1TB"}}, {"颜色", []string{"雅川青", "雅丹黑", "白沙银"}}}, image: "mate60pro", desc: "卫星通话，超可靠玄武架构，鸿蒙操作系统。", skus: []demoSKU{
				{variant: "12GB+256GB 雅川青", opts: []string{"12GB+256GB", "雅川青"}, caption: "超可靠玄武架构，全焦段超清影像", price: "6499.00", market: "6999.00", cost: "5200.00", stock: 45, sales: 520},
				{variant: "12GB+512GB 雅丹黑", opts: []string{"12GB+512GB", "雅丹黑"}, caption: "卫星通话，超可靠昆仑玻璃", price: "6999.00", market: "7499.00", cost: "5600.00", stock: 18, sales: 260},
				{variant: "12GB+1TB 白沙银", opts: []string{"12GB+1TB", "白沙银"}, caption: "1TB 超大存储，旗舰影像", price: "7999.00", market: "8499.00", cost: "6400.00", stock: 9, sales: 74},
			}},
			{name: "小米 Xiaomi 14", brand: "小米", leaf: "手机", gallery: "xiaomi14", specs: []demoSpec{{"版本", []string{"8GB+256GB", "12GB+256GB", "16GB+512GB", "16GB+1TB"}}, {"颜色", []string{"白色", "黑色", "岩石青", "雪山粉"}}}, image: "xiaomi14", desc: "徕卡光学 Summilux 镜头，第三代骁龙 8 移动平台。", skus: []demoSKU{
				{variant: "12GB+256GB 白色", opts: []string{"12GB+256GB", "白色"}, caption: "徕卡光学镜头，光影猎人 900 传感器", price: "3999.00", market: "4299.00", cost: "3200.00", stock: 150, sales: 640},
				{variant: "16GB+512GB 黑色", opts: []string{"16GB+512GB", "黑色"}, caption: "第三代骁龙 8，澎湃 OS", price: "4599.00", market: "4899.00", cost: "3700.00", stock: 60, sales: 310},
				{variant: "16GB+1TB 岩石青", opts: []string{"16GB+1TB", "岩石青"}, caption: "1TB 大存储，90W 有线快充", price: "4999.00", market: "5299.00", cost: "4000.00", stock: 26, sales: 122},
				{variant: "8GB+256GB 雪山粉", opts: []string{"8GB+256GB", "雪山粉"}, caption: "已下架", price: "3699.00", market: "3999.00", cost: "3000.00", stock: 40, sales: 58, withdrawn: true},
			}},
		}},
		{name: "笔记本电脑", subs: []demoSub{{"电脑整机", []string{"轻薄本", "商务本"}}, {"电脑配件", []string{"键盘", "鼠标"}}}, spus: []demoSPU{
			{name: "Apple MacBook Air 13 英寸 M3", brand: "Apple", leaf: "轻薄本", gallery: "macbookair", specs: []demoSpec{{"配置", []string{"8GB+256GB", "16GB+512GB", "24GB+1TB"}}, {"颜色", []string{"午夜色", "星光色", "深空灰色"}}}, image: "macbookair", desc: "M3 芯片，18 小时电池续航，轻至 1.24 公斤。", skus: []demoSKU{
				{variant: "8GB+256GB 午夜色", opts: []string{"8GB+256GB", "午夜色"}, caption: "M3 芯片，Liquid 视网膜显示屏", price: "7999.00", market: "8999.00", cost: "6500.00", stock: 40, sales: 150},
				{variant: "16GB+512GB 星光色", opts: []string{"16GB+512GB", "星光色"}, caption: "更大内存，多任务更流畅", price: "10499.00", market: "11499.00", cost: "8600.00", stock: 25, sales: 90},
				{variant: "24GB+1TB 深空灰色", opts: []string{"24GB+1TB", "深空灰色"}, caption: "顶配之选，剪辑开发两相宜", price: "13999.00", market: "14999.00", cost: "11500.00", stock: 4, sales: 21},
			}},
			{name: "联想 ThinkPad X1 Carbon", brand: "联想", leaf: "商务本", gallery: "thinkpadx1", specs: []demoSpec{{"配置", []string{"Ultra 5 16GB+512GB", "Ultra 7 32GB+1TB"}}, {"颜色", []string{"黑色"}}}, image: "thinkpadx1", desc: "碳纤维机身，经典小红点，商务旗舰。", skus: []demoSKU{
				{variant: "酷睿 Ultra 5 16GB 512GB 黑色", opts: []string{"Ultra 5 16GB+512GB", "黑色"}, caption: "14 英寸 2.8K OLED 屏，轻至 1.09 公斤", price: "9999.00", market: "10999.00", cost: "8200.00", stock: 30, sales: 66},
				{variant: "酷睿 Ultra 7 32GB 1TB 黑色", opts: []string{"Ultra 7 32GB+1TB", "黑色"}, caption: "32GB 大内存，军标品质，商务首选", price: "12999.00", market: "13999.00", cost: "10600.00", stock: 12, sales: 45},
			}},
		}},
		{name: "耳机音箱", subs: []demoSub{{"影音娱乐", []string{"耳机", "音箱"}}}, spus: []demoSPU{
			{name: "索尼 Sony WH-1000XM5 头戴式降噪耳机", brand: "索尼", leaf: "耳机", gallery: "wh1000xm5", specs: []demoSpec{{"颜色", []string{"黑色", "铂金银", "午夜蓝"}}}, image: "wh1000xm5-black", desc: "双芯驱动 8 麦克风，智能降噪，30 小时续航。", skus: []demoSKU{
				{variant: "黑色", opts: []string{"黑色"}, caption: "旗舰降噪，高解析度音质，佩戴轻盈", price: "2499.00", market: "2999.00", cost: "1800.00", stock: 90, sales: 430},
				{variant: "铂金银", opts: []string{"铂金银"}, caption: "经典银色，智能免摘对话", price: "2499.00", market: "2999.00", cost: "1800.00", stock: 2, sales: 260, image: "wh1000xm5-silver"},
				{variant: "午夜蓝", opts: []string{"午夜蓝"}, caption: "限定配色，3 分钟快充听 3 小时", price: "2599.00", market: "2999.00", cost: "1850.00", stock: 15, sales: 88, image: "wh1000xm5-blue"},
			}},
			{name: "Apple AirPods Pro (第二代)", brand: "Apple", leaf: "耳机", gallery: "airpodspro", specs: []demoSpec{}, image: "airpodspro", desc: "主动降噪，自适应音频，USB-C 充电盒。", skus: []demoSKU{
				{variant: "USB-C 充电盒", caption: "主动降噪能力提升至两倍，个性化空间音频", price: "1899.00", market: "1999.00", cost: "1300.00", stock: 200, sales: 980},
			}},
			{name: "漫步者 EDIFIER M230 蓝牙音箱", brand: "漫步者", leaf: "音箱", gallery: "edifier-m230", specs: []demoSpec{{"颜色", []string{"经典黑", "象牙白"}}}, image: "edifier-m230", desc: "复古造型，蓝牙 5.3，桌面好声音。", skus: []demoSKU{
				{variant: "经典黑", opts: []string{"经典黑"}, caption: "三分频设计，低音饱满，支持 USB 声卡", price: "399.00", market: "499.00", cost: "260.00", stock: 150, sales: 540},
				{variant: "象牙白", opts: []string{"象牙白"}, caption: "简约配色，适配多种桌面风格", price: "399.00", market: "499.00", cost: "260.00", stock: 110, sales: 210},
			}},
		}},
		{name: "相机", subs: []demoSub{{"摄影摄像", []string{"微单相机", "单反相机"}}}, spus: []demoSPU{
			{name: "佳能 Canon EOS R50 微单相机", brand: "佳能", leaf: "微单相机", gallery: "eosr50", specs: []demoSpec{{"套装", []string{"RF-S 18-45mm 套机"}}, {"颜色", []string{"黑色", "白色"}}}, image: "eosr50", desc: "2420 万像素，4K 视频，小巧轻便的入门微单。", skus: []demoSKU{
				{variant: "RF-S 18-45mm 套机 黑色", opts: []string{"RF-S 18-45mm 套机", "黑色"}, caption: "新手友好，自动场景识别，Vlog 好帮手", price: "5499.00", market: "5999.00", cost: "4500.00", stock: 22, sales: 64},
				{variant: "RF-S 18-45mm 套机 白色", opts: []string{"RF-S 18-45mm 套机", "白色"}, caption: "白色机身，颜值与画质兼得", price: "5599.00", market: "5999.00", cost: "4600.00", stock: 8, sales: 31},
			}},
			{name: "索尼 Sony ZV-E10 II Vlog 微单相机", brand: "索尼", leaf: "微单相机", gallery: "zve10", specs: []demoSpec{{"套装", []string{"16-50mm 套机", "单机身"}}, {"颜色", []string{"黑色", "白色"}}}, image: "zve10", desc: "APS-C 画幅，4K 60p，可换镜头 Vlog 相机。", skus: []demoSKU{
				{variant: "16-50mm 套机 黑色", opts: []string{"16-50mm 套机", "黑色"}, caption: "侧翻屏自拍，产品展示模式", price: "6999.00", market: "7499.00", cost: "5800.00", stock: 35, sales: 57},
				{variant: "单机身 白色", opts: []string{"单机身", "白色"}, caption: "自选镜头，灵活搭配", price: "6199.00", market: "6499.00", cost: "5100.00", stock: 14, sales: 23},
			}},
		}},
		{name: "智能手表", subs: []demoSub{{"智能穿戴", []string{"智能手表", "手环"}}}, spus: []demoSPU{
			{name: "Apple Watch Series 9 GPS 45mm", brand: "Apple", leaf: "智能手表", gallery: "applewatch9", specs: []demoSpec{{"表壳", []string{"午夜色铝金属表壳", "星光色铝金属表壳", "粉色铝金属表壳"}}, {"表带", []string{"运动型表带"}}}, image: "applewatch9", desc: "S9 芯片，双指互点两下，更亮的显示屏。", skus: []demoSKU{
				{variant: "午夜色铝金属表壳 运动型表带", opts: []string{"午夜色铝金属表壳", "运动型表带"}, caption: "血氧与心电图，体温感应", price: "3199.00", market: "3399.00", cost: "2500.00", stock: 55, sales: 240},
				{variant: "星光色铝金属表壳 运动型表带", opts: []string{"星光色铝金属表壳", "运动型表带"}, caption: "经典配色，全天候视网膜显示屏", price: "3199.00", market: "3399.00", cost: "2500.00", stock: 38, sales: 175},
				{variant: "粉色铝金属表壳 运动型表带", opts: []string{"粉色铝金属表壳", "运动型表带"}, caption: "清新粉色，精准健康监测", price: "3199.00", market: "3399.00", cost: "2500.00", stock: 5, sales: 96},
			}},
			{name: "华为 HUAWEI WATCH GT 4 46mm", brand: "华为", leaf: "智能手表", gallery: "watchgt4", specs: []demoSpec{{"颜色", []string{"曜石黑", "山茶棕"}}, {"表带", []string{"氟橡胶表带", "真皮表带"}}}, image: "watchgt4", desc: "14 天超长续航，科学运动健康管理。", skus: []demoSKU{
				{variant: "曜石黑 氟橡胶表带", opts: []string{"曜石黑", "氟橡胶表带"}, caption: "八边形设计，14 天长续航", price: "1488.00", market: "1588.00", cost: "1000.00", stock: 70, sales: 330},
				{variant: "山茶棕 真皮表带", opts: []string{"山茶棕", "真皮表带"}, caption: "真皮表带，商务与运动皆宜", price: "1688.00", market: "1788.00", cost: "1150.00", stock: 33, sales: 142},
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

// LoadDemo fills an empty catalog with demo brands, three levels of
// categories in channel groups, products with specifications, SKUs and
// their galleries, in one transaction. When any category exists it
// changes nothing and returns false.
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
		d := demoLoader{tx: tx, brands: map[string]int64{}, leaves: map[string]int64{}}
		if err := d.load(demoCatalog(), demoLater()); err != nil {
			return err
		}
		loaded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("load demo catalog: %w", err)
	}
	return loaded, nil
}

// demoLoader writes the demo catalog in one transaction.
type demoLoader struct {
	tx     *Tx
	brands map[string]int64
	tops   []Category
	leaves map[string]int64 // "top/leaf" to id
}

func (d *demoLoader) load(cats []demoCategory, later map[string][]demoSPU) error {
	tx, now := d.tx, d.tx.Now
	for _, b := range demoBrands {
		br := Brand{CreateTime: now, UpdateTime: now, Name: b[0], FirstLetter: b[1]}
		if err := tx.Create(&br).Error; err != nil {
			return fmt.Errorf("brand %s: %w", b[0], err)
		}
		d.brands[b[0]] = br.ID
	}
	// Top levels first, so that they keep ids 1 to 5.
	for _, dc := range cats {
		c := Category{CreateTime: now, UpdateTime: now, Name: dc.name}
		if err := tx.Create(&c).Error; err != nil {
			return fmt.Errorf("category %s: %w", dc.name, err)
		}
		d.tops = append(d.tops, c)
	}
	topID := map[string]int64{}
	for i, dc := range cats {
		top := d.tops[i]
		topID[top.Name] = top.ID
		for _, sub := range dc.subs {
			c2 := Category{CreateTime: now, UpdateTime: now, Name: sub.name, ParentID: &top.ID}
			if err := tx.Create(&c2).Error; err != nil {
				return fmt.Errorf("category %s: %w", sub.name, err)
			}
			for _, leaf := range sub.leaves {
				c3 := Category{CreateTime: now, UpdateTime: now, Name: leaf, ParentID: &c2.ID}
				if err := tx.Create(&c3).Error; err != nil {
					return fmt.Errorf("category %s: %w", leaf, err)
				}
				d.leaves[top.Name+"/"+leaf] = c3.ID
			}
		}
	}
	for _, g := range demoGroups {
		grp := ChannelGroup{CreateTime: now, UpdateTime: now, Name: g.name}
		if err := tx.Create(&grp).Error; err != nil {
			return fmt.Errorf("channel group %s: %w", g.name, err)
		}
		for i, name := range g.cats {
			id := topID[name]
			ch := Channel{CreateTime: now, UpdateTime: now, GroupID: grp.ID, CategoryID: id,
				URL: "/list/" + strconv.FormatInt(id, 10) + "/1/", Sequence: i + 1}
			if err := tx.Create(&ch).Error; err != nil {
				return fmt.Errorf("channel %s: %w", name, err)
			}
		}
	}
	for _, dc := range cats {
		for _, dp := range dc.spus {
			if err := d.spu(dc.name, dp); err != nil {
				return err
			}
		}
	}
	for _, dc := range cats {
		for _, dp := range later[dc.name] {
			if err := d.spu(dc.name, dp); err != nil {
				return err
			}
		}
	}
	return nil
}

// spu writes one product with its specifications, SKUs, their options,
// galleries and first stock.
func (d *demoLoader) spu(top string, dp demoSPU) error {
	tx, now := d.tx, d.tx.Now
	leaf, ok := d.leaves[top+"/"+dp.leaf]
	if !ok {
		return fmt.Errorf("spu %s: no category %s/%s", dp.name, top, dp.leaf)
	}
	p := SPU{CreateTime: now, UpdateTime: now, Name: dp.name, CategoryID: leaf, DescDetail: dp.desc}
	if id, ok := d.brands[dp.brand]; ok {
		p.BrandID = &id
	}
	for _, ds := range dp.skus {
		p.Sales += ds.sales
	}
	if err := tx.Create(&p).Error; err != nil {
		return fmt.Errorf("spu %s: %w", dp.name, err)
	}
	specs := make([]Specification, len(dp.specs))
	options := make([]map[string]int64, len(dp.specs))
	for i, sp := range dp.specs {
		specs[i] = Specification{CreateTime: now, UpdateTime: now, SPUID: p.ID, Name: sp.name}
		if err := tx.Create(&specs[i]).Error; err != nil {
			return fmt.Errorf("spec %s of %s: %w", sp.name, dp.name, err)
		}
		options[i] = map[string]int64{}
		for _, v := range sp.values {
			o := SpecOption{CreateTime: now, UpdateTime: now, SpecID: specs[i].ID, Value: v}
			if err := tx.Create(&o).Error; err != nil {
				return fmt.Errorf("option %s of %s: %w", v, dp.name, err)
			}
			options[i][v] = o.ID
		}
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
			CategoryID:   leaf,
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
	var rows []SKUSpec
	var images []SKUImage
	for i, ds := range dp.skus {
		if len(ds.opts) != len(specs) {
			return fmt.Errorf("sku %s: %d options for %d specifications", skus[i].Name, len(ds.opts), len(specs))
		}
		for j, v := range ds.opts {
			o, ok := options[j][v]
			if !ok {
				return fmt.Errorf("sku %s: no option %s", skus[i].Name, v)
			}
			rows = append(rows, SKUSpec{CreateTime: now, UpdateTime: now, SKUID: skus[i].ID, SpecID: specs[j].ID, OptionID: o})
		}
		for j, img := range []string{skus[i].DefaultImage, "/static/img/sku/" + dp.gallery + "-detail.svg", "/static/img/sku/" + dp.gallery + "-box.svg"} {
			images = append(images, SKUImage{CreateTime: now, UpdateTime: now, SKUID: skus[i].ID, Image: img, Sequence: j + 1})
		}
	}
	if len(rows) > 0 {
		if err := tx.Create(&rows).Error; err != nil {
			return fmt.Errorf("options of the skus of %s: %w", dp.name, err)
		}
	}
	if err := tx.Create(&images).Error; err != nil {
		return fmt.Errorf("galleries of %s: %w", dp.name, err)
	}
	return RecordInitialStock(tx, skus)
}
