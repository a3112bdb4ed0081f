package deploycheck

import (
	"debug/elf"
	"errors"
	"fmt"
)

// CheckStatic returns an error unless the ELF file at path is statically
// linked: no program interpreter (PT_INTERP: the dynamic loader a scratch or
// distroless/static image lacks), no dynamic segment or section, and no
// shared library it needs.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var errs []error
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			errs = append(errs, errors.New("has a program interpreter (PT_INTERP): dynamically linked"))
		case elf.PT_DYNAMIC:
			errs = append(errs, errors.New("has a dynamic segment (PT_DYNAMIC)"))
		}
	}
	if f.Section(".dynamic") != nil {
		errs = append(errs, errors.New("has a .dynamic section"))
	}
	if f.Section(".interp") != nil {
		errs = append(errs, errors.New("has an .interp section"))
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		errs = append(errs, fmt.Errorf("needs shared libraries %v", libs))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
