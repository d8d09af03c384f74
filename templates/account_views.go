package templates

import (
	"strings"

	"github.com/a-h/templ"
)

// RegisterView is the sign-up page. On a failed attempt it keeps what the
// visitor typed, except the passwords.
type RegisterView struct {
	Page     Page
	Username string
	Mobile   string
	Allow    bool
	Errors   map[string]string // field name -> message, in the page's language
	Message  string            // about the whole form
}

// LoginView is the login page.
type LoginView struct {
	Page       Page
	Username   string
	Remembered bool
	Next       string // where to go after logging in
	Message    string // why the last attempt failed
}

// AddressesView is the address book page.
type AddressesView struct {
	Page      Page
	Addresses []AddressView
	Max       int // how many addresses a user may keep
	// Provinces fill the first region select; the page script loads the
	// cities and districts of the chosen one from GET /areas/<id>/.
	Provinces []RegionOption
	// Done says what the last action did (a message key, "" for none), and
	// Changed which address it touched, so the page shows the message and
	// brings that address into view.
	Done    string
	Changed int64
}

// RegionOption is one choice of a region select.
type RegionOption struct {
	ID   int64
	Name string
}

// AddressView is one address in the book.
type AddressView struct {
	ID        int64
	Title     string
	Receiver  string
	Province  string
	City      string
	District  string
	Place     string
	Mobile    string
	Tel       string
	Email     string
	IsDefault bool
	// The picked regions' ids; 0 for an address typed before regions
	// existed, whose region the form asks for again.
	ProvinceID, CityID, DistrictID int64
}

// inputField is one labelled input of a form, with its error if any.
type inputField struct {
	Name         string
	Type         string
	Label        string
	Hint         string
	Value        string
	Error        string
	Autocomplete string
	Attrs        templ.Attributes // more attributes: maxlength, inputmode...
}

// Line is the address on one line, as a courier writes it.
func (a AddressView) Line() string {
	return a.Province + " " + a.City + " " + a.District + " " + a.Place
}

// describedBy lists the ids of the field's hint and error, for screen readers.
func describedBy(f inputField) string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, "f-"+f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, "f-"+f.Name+"-error")
	}
	return strings.Join(ids, " ")
}
