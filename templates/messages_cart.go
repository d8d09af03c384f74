package templates

var cartMessages = map[string][2]string{}
