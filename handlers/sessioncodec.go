package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// NewSessionStore returns the session cookie store: signed with hashKey,
// encrypted with blockKey (both 32 bytes), cookies refused after maxAge
// seconds. Its values are serialised as JSON instead of securecookie's
// default gob, which compiles a decoder for every cookie it reads: most of
// the cost of a logged-in request under load.
func NewSessionStore(hashKey, blockKey []byte, maxAge int) *sessions.CookieStore {
	cs := sessions.NewCookieStore(hashKey, blockKey)
	cs.MaxAge(maxAge)
	for _, c := range cs.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(sessionJSON{})
		}
	}
	return cs
}

// sessionJSON serialises session values, a map with string keys and
// int64, string or bool values, as a JSON object.
type sessionJSON struct{}

func (sessionJSON) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("session values: want map[any]any, got %T", src)
	}
	out := make(map[string]any, len(values))
	for k, v := range values {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("session key %v: want a string", k)
		}
		switch v.(type) {
		case int64, string, bool:
		default:
			return nil, fmt.Errorf("session value %q: %T cannot be stored", key, v)
		}
		out[key] = v
	}
	return json.Marshal(out)
}

func (sessionJSON) Deserialize(src []byte, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("session values: want *map[any]any, got %T", dst)
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("session cookie: %w", err)
	}
	for k, v := range in {
		if n, ok := v.(json.Number); ok {
			i, err := n.Int64()
			if err != nil {
				return fmt.Errorf("session value %q: %w", k, err)
			}
			v = i
		}
		(*values)[k] = v
	}
	return nil
}
