package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"testing"

	"github.com/meiduo/shop/models"
)

// Password is the password CreateUser gives every user.
const Password = "secret-pw-123"

// CreateUser adds an active shopper straight through the Store, with
// Password and a random valid mobile number. It is the fast way to get a
// user; log it in with Client.Login(t, username, testenv.Password).
func CreateUser(t testing.TB, st *models.Store, username string) *models.User {
	t.Helper()
	u, err := st.Accounts.CreateUser(context.Background(), models.NewUser{Username: username, Password: Password, Mobile: RandomMobile()})
	if err != nil {
		t.Fatalf("create user %q: %v", username, err)
	}
	return u
}

// RandomMobile returns a valid mobile number, 13 and nine random digits;
// two calls clash about once in 10^9.
func RandomMobile() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	return fmt.Sprintf("13%09d", n.Int64())
}

// CreateAddress adds a valid address to the user's book through the Store
// (the first one becomes the default).
func CreateAddress(t testing.TB, st *models.Store, uid int64) *models.Address {
	t.Helper()
	a, err := st.Addresses.CreateAddress(context.Background(), uid, models.AddressInput{
		Receiver: "张三", Province: "北京市", City: "北京市", District: "海淀区",
		Place: "中关村大街 1 号", Mobile: "13800138000",
	})
	if err != nil {
		t.Fatalf("create an address for user %d: %v", uid, err)
	}
	return a
}

// Login logs the client in through the login form, as a browser does, and
// fails the test unless the shop answers with a redirect. It then fetches
// a page for the CSRF token that the login issued.
func (c *Client) Login(t testing.TB, username, password string) {
	t.Helper()
	c.Get("/login/")
	res := c.Do(http.MethodPost, "/login/", url.Values{"username": {username}, "password": {password}})
	if res.Status != http.StatusFound {
		t.Fatalf("log in %q: status %d, want 302\n%.2000s", username, res.Status, res.Body)
	}
	c.Visit() // the login rotated the CSRF token, as a browser following the redirect would
}

// Register signs up through the form (which also logs the client in) and
// fails the test unless the shop answers with a redirect. A shop takes 20
// sign-ups an hour from one address; use CreateUser for more users.
func (c *Client) Register(t testing.TB, username, password, mobile string) {
	t.Helper()
	c.Get("/register/")
	res := c.Do(http.MethodPost, "/register/", url.Values{
		"username": {username}, "password": {password}, "password2": {password},
		"mobile": {mobile}, "allow": {"on"},
	})
	if res.Status != http.StatusFound {
		t.Fatalf("register %q: status %d, want 302\n%.2000s", username, res.Status, res.Body)
	}
	c.Visit() // signing up logs in, which rotated the CSRF token
}
