package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meiduo/shop/models"
)

// Every subcommand reads its arguments before the configuration: -h
// prints its usage and exits 0, and bad arguments fail, with no
// environment at all and without writing the development key.
func TestSubcommandArgumentsBeforeConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // where the development key would go: SHOP_DATA_DIR defaults to .
	tests := []struct {
		args    []string
		want    string // in the output, or in the error when wantErr
		wantErr bool
	}{
		{[]string{"createsuperuser", "-h"}, "-username", false},
		{[]string{"createsuperuser", "--help"}, "usage: shop createsuperuser", false},
		{[]string{"changepassword", "-h"}, "usage: shop changepassword USERNAME", false},
		{[]string{"migrate", "-h"}, "-to", false},
		{[]string{"showmigrations", "-h"}, "usage: shop showmigrations", false},
		{[]string{"loaddemo", "-h"}, "usage: shop loaddemo", false},
		{[]string{"check", "-h"}, "-deploy", false},
		{[]string{"version", "-h"}, "usage: shop version", false},
		{[]string{"runserver", "-h"}, "usage: shop runserver", false},
		{[]string{"seckill", "-h"}, "shop seckill open", false},
		{[]string{"seckill", "open", "-h"}, "-stock", false},
		{[]string{"bench", "-h"}, "-buyers", false},
		{[]string{"createsuperuser", "--bogus"}, "flag provided but not defined", true},
		{[]string{"createsuperuser", "--username", "boss", "extra"}, "want 0 argument", true},
		{[]string{"changepassword"}, "want 1 argument", true},
		{[]string{"changepassword", "a", "b"}, "want 1 argument", true},
		{[]string{"migrate", "--to", "x"}, "invalid value", true},
		{[]string{"migrate", "now"}, "want 0 argument", true},
		{[]string{"showmigrations", "--all"}, "flag provided but not defined", true},
		{[]string{"runserver", "--port", "80"}, "usage: shop runserver", true},
		{[]string{"seckill", "frobnicate"}, "usage", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, env(nil), &out, &out)
			got := out.String()
			if err != nil {
				got += err.Error()
			}
			if (err != nil) != tt.wantErr || !strings.Contains(got, tt.want) {
				t.Errorf("err %v, output %q; want error=%v and %q", err, out.String(), tt.wantErr, tt.want)
			}
		})
	}
	left, _ := os.ReadDir(dir)
	for _, f := range left {
		t.Errorf("%s written without configuration being needed", f.Name())
	}
}

// createsuperuser and changepassword take the password from
// SHOP_SUPERUSER_PASSWORD or standard input; --password still works, with
// a warning. changepassword ends the user's sessions.
func TestPasswordCommands(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "p.db")
	base := map[string]string{"DATABASE_URL": dbURL, "SHOP_DATA_DIR": dir}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return env(m)
	}
	tests := []struct {
		name    string
		args    []string
		getenv  func(string) string
		stdin   string
		want    string // in stdout, or in the error when wantErr
		warning string // in stderr
		wantErr bool
	}{
		{"from the environment", []string{"createsuperuser", "--username", "boss1"}, with("SHOP_SUPERUSER_PASSWORD", "a-long-password"), "", `Superuser "boss1" created`, "", false},
		{"from standard input", []string{"createsuperuser", "--username", "boss2"}, with(), "another-long-one\n", `Superuser "boss2" created`, "", false},
		{"deprecated flag", []string{"createsuperuser", "--username", "boss3", "--password", "a-third-password"}, with(), "", `Superuser "boss3" created`, "--password is deprecated", false},
		{"no password", []string{"createsuperuser", "--username", "boss4"}, with(), "", "no password", "", true},
		{"weak password", []string{"createsuperuser", "--username", "boss4"}, with(), "password123\n", "not a common password", "", true},
		{"change from stdin", []string{"changepassword", "boss1"}, with(), "a-brand-new-secret\n", `Password changed for user "boss1"`, "", false},
		{"change, any case", []string{"changepassword", "BOSS2"}, with("SHOP_SUPERUSER_PASSWORD", "yet-another-secret"), "", `Password changed for user "boss2"`, "", false},
		{"change an unknown user", []string{"changepassword", "nobody"}, with(), "a-brand-new-secret\n", `no user "nobody"`, "", true},
		{"change to a weak password", []string{"changepassword", "boss1"}, with(), "90817263541\n", "not digits only", "", true},
		{"change without a password", []string{"changepassword", "boss1"}, with(), "", "no password", "", true},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := runInput(context.Background(), tt.args, tt.getenv, strings.NewReader(tt.stdin), &out, &errOut)
		got := out.String()
		if err != nil {
			got = err.Error()
		}
		if (err != nil) != tt.wantErr || !strings.Contains(got, tt.want) || !strings.Contains(errOut.String(), tt.warning) {
			t.Errorf("%s: err %v, stdout %q, stderr %q; want error=%v, %q and warning %q", tt.name, err, out.String(), errOut.String(), tt.wantErr, tt.want, tt.warning)
		}
	}

	ctx := context.Background()
	st, err := models.Open(ctx, dbURL, models.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for login, pw := range map[string]string{"boss1": "a-brand-new-secret", "boss2": "yet-another-secret", "boss3": "a-third-password"} {
		if _, err := st.Accounts.Authenticate(ctx, login, pw); err != nil {
			t.Errorf("log in as %s with its password: %v", login, err)
		}
	}
	if _, err := st.Accounts.Authenticate(ctx, "boss1", "a-long-password"); err == nil {
		t.Error("boss1's old password still works")
	}
	changed, _ := st.Accounts.UserByUsername(ctx, "boss1")
	same, _ := st.Accounts.UserByUsername(ctx, "boss3")
	if changed == nil || same == nil || changed.SessionGeneration == same.SessionGeneration {
		t.Errorf("session generation after changepassword %+v, untouched %+v: want it moved on", changed, same)
	}
}

// migrate --to goes down (the +goose Down sections) and up again;
// showmigrations shows which are applied; version prints the build.
func TestMigrationCommands(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(dir, "m.db"), "SHOP_DATA_DIR": dir})
	names, err := filepath.Glob(filepath.Join("migrations", "sqlite", "*.sql"))
	if err != nil || len(names) < 8 {
		t.Fatalf("migrations: %v, %v", names, err)
	}
	last := filepath.Base(names[len(names)-1])[:5] // 00009
	lastN := strings.TrimLeft(last, "0")
	do := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, getenv, &out, &out)
		return out.String(), err
	}
	steps := []struct {
		args    []string
		want    []string
		wantErr bool
	}{
		{[]string{"showmigrations"}, []string{" [ ] 00001 00001_init.sql", " [ ] " + last + " "}, false},
		{[]string{"migrate"}, []string{"Applied migration " + lastN}, false},
		{[]string{"showmigrations"}, []string{" [X] 00001 00001_init.sql", " [X] " + last + " "}, false},
		{[]string{"migrate", "--to", "6"}, []string{"Rolled back migration " + lastN, "Rolled back migration 7"}, false},
		{[]string{"showmigrations"}, []string{" [X] 00006 ", " [ ] 00007 ", " [ ] " + last + " "}, false},
		{[]string{"migrate", "--to", "6"}, []string{"Already at migration 6"}, false},
		{[]string{"migrate", "--to", "0"}, []string{"Rolled back migration 1"}, false},
		{[]string{"showmigrations"}, []string{" [ ] 00001 "}, false},
		{[]string{"migrate", "--to", "7"}, []string{"Applied migration 1", "Applied migration 7"}, false},
		{[]string{"migrate", "--to", "999"}, []string{"no migration 999"}, true},
		{[]string{"migrate"}, []string{"Applied migration " + lastN}, false},
		{[]string{"version"}, []string{"shop github.com/meiduo/shop", "built with go"}, false},
	}
	for _, s := range steps {
		out, err := do(s.args...)
		if err != nil {
			out += err.Error()
		}
		if (err != nil) != s.wantErr {
			t.Fatalf("%v: err %v, want error=%v\n%s", s.args, err, s.wantErr, out)
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output does not contain %q:\n%s", s.args, w, out)
			}
		}
	}
}
