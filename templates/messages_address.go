package templates

var addressMessages = map[string][2]string{}
