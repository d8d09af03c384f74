package templates

var catalogMessages = map[string][2]string{}
