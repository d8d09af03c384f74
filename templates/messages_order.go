package templates

var orderMessages = map[string][2]string{}
