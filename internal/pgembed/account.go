package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// serverUser is the system user the server runs as when herald runs as root.
const serverUser = "postgres"

// account is the operating-system user initdb, pg_ctl and the server run as.
type account struct {
	// name is the user's name, for error messages.
	name string
	uid  uint32
	// gids holds the user's primary group first, then its other groups.
	gids []uint32
	// switchTo reports whether commands must switch to this user: the
	// process runs as root, and PostgreSQL refuses to.
	switchTo bool
}

// serverAccount returns the account to run PostgreSQL as: the current user,
// or the postgres system user when the process runs as root.
func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{name: "uid " + strconv.Itoa(os.Geteuid()), uid: uint32(os.Geteuid()), gids: []uint32{uint32(os.Getegid())}}, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		if errors.As(err, new(user.UnknownUserError)) {
			return account{}, fmt.Errorf("pgembed: herald runs as root and PostgreSQL refuses to, "+
				"but there is no %q system user to run it as: create one (e.g. useradd --system %s), "+
				"run herald as another user, or set DATABASE_URL to an existing server", serverUser, serverUser)
		}
		return account{}, fmt.Errorf("pgembed: look up user %q: %w", serverUser, err)
	}
	acct, err := accountOf(u)
	if err != nil {
		return account{}, err
	}
	acct.switchTo = true
	return acct, nil
}

// accountOf converts u's ids.
func accountOf(u *user.User) (account, error) {
	uid, err := parseID(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("pgembed: user %q: uid: %w", u.Username, err)
	}
	gid, err := parseID(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("pgembed: user %q: gid: %w", u.Username, err)
	}
	acct := account{name: u.Username, uid: uid, gids: []uint32{gid}}
	groups, err := u.GroupIds()
	if err != nil {
		return account{}, fmt.Errorf("pgembed: user %q: groups: %w", u.Username, err)
	}
	for _, g := range groups {
		id, err := parseID(g)
		if err != nil {
			return account{}, fmt.Errorf("pgembed: user %q: group %q: %w", u.Username, g, err)
		}
		if !slices.Contains(acct.gids, id) {
			acct.gids = append(acct.gids, id)
		}
	}
	return acct, nil
}

func parseID(s string) (uint32, error) {
	id, err := strconv.ParseUint(s, 10, 32)
	return uint32(id), err
}

// command returns a command that runs as the account, in dir.
func (a account) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if a.switchTo {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid:    a.uid,
			Gid:    a.gids[0],
			Groups: a.gids[1:],
		}}
	}
	return cmd
}

// own gives path to the account when commands switch to it.
func (a account) own(path string) error {
	if !a.switchTo {
		return nil
	}
	if err := os.Lchown(path, int(a.uid), int(a.gids[0])); err != nil {
		return fmt.Errorf("pgembed: give %s to user %q: %w", path, a.name, err)
	}
	return nil
}

// owns reports whether fi belongs to the account.
func (a account) owns(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == a.uid
}

// checkTraversable returns an error naming the first ancestor of dir the
// account cannot enter, so that PostgreSQL, running as that account, can
// reach its data directory. Only the classic permission bits are checked.
func (a account) checkTraversable(dir string) error {
	for parent := filepath.Dir(dir); ; parent = filepath.Dir(parent) {
		fi, err := os.Stat(parent)
		if err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
		if !a.canSearch(fi) {
			return fmt.Errorf("pgembed: PostgreSQL runs as user %q, which cannot enter %s (mode %s), "+
				"a parent of the data directory %s: choose a data directory that user can reach "+
				"(e.g. under /var/lib), or allow it in with chmod o+x %s", a.name, parent, fi.Mode().Perm(), dir, parent)
		}
		if parent == filepath.Dir(parent) {
			return nil
		}
	}
}

// canSearch reports whether the account may enter the directory fi describes.
func (a account) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return perm&0o100 != 0
	case slices.Contains(a.gids, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
