package templates

var accountMessages = map[string][2]string{}
