package dispatch

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseIPv4Host(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		host        string
		want        string // the address; "" for a name
		wantNumeric bool
		wantErr     bool
	}{
		{name: "dotted decimal", host: "127.0.0.1", want: "127.0.0.1", wantNumeric: true},
		{name: "trailing dot", host: "127.0.0.1.", want: "127.0.0.1", wantNumeric: true},
		{name: "two parts", host: "127.1", want: "127.0.0.1", wantNumeric: true},
		{name: "three parts", host: "10.1.257", want: "10.1.1.1", wantNumeric: true},
		{name: "one decimal number", host: "2130706433", want: "127.0.0.1", wantNumeric: true},
		{name: "one decimal number, metadata", host: "2852039166", want: "169.254.169.254", wantNumeric: true},
		{name: "one hex number", host: "0xa9fea9fe", want: "169.254.169.254", wantNumeric: true},
		{name: "upper case hex", host: "0XA9FEA9FE", want: "169.254.169.254", wantNumeric: true},
		{name: "hex parts", host: "0x7f.1", want: "127.0.0.1", wantNumeric: true},
		{name: "octal parts", host: "0251.0376.0251.0376", want: "169.254.169.254", wantNumeric: true},
		{name: "octal first part", host: "0177.0.0.1", want: "127.0.0.1", wantNumeric: true},
		{name: "mixed bases", host: "0x7f.0.00.01", want: "127.0.0.1", wantNumeric: true},
		{name: "zero", host: "0", want: "0.0.0.0", wantNumeric: true},
		{name: "bare 0x is zero", host: "0x", want: "0.0.0.0", wantNumeric: true},
		{name: "largest", host: "4294967295", want: "255.255.255.255", wantNumeric: true},
		{name: "leading zeros in decimal dotted form are octal", host: "010.0.0.1", want: "8.0.0.1", wantNumeric: true},

		{name: "a name", host: "hooks.example.com"},
		{name: "a name with a trailing dot", host: "hooks.example.com."},
		{name: "numeric labels before a name", host: "127.0.0.1.example"},
		{name: "hex-looking name", host: "0xg"},
		{name: "a number then letters", host: "1e3"},
		{name: "localhost", host: "localhost"},

		{name: "above 32 bits", host: "4294967296", wantNumeric: true, wantErr: true},
		{name: "huge hex", host: "0xffffffffffffffffffff", wantNumeric: true, wantErr: true},
		{name: "part above 255", host: "256.0.0.1", wantNumeric: true, wantErr: true},
		{name: "last part above its bytes", host: "1.2.3.256", wantNumeric: true, wantErr: true},
		{name: "last of two parts above 24 bits", host: "1.16777216", wantNumeric: true, wantErr: true},
		{name: "five parts", host: "1.2.3.4.5", wantNumeric: true, wantErr: true},
		{name: "empty part", host: "1..2", wantNumeric: true, wantErr: true},
		{name: "8 is not octal", host: "08", wantNumeric: true, wantErr: true},
		{name: "letters in a part", host: "a.1", wantNumeric: true, wantErr: true},
		{name: "a sign", host: "+1.1", wantNumeric: true, wantErr: true},
		{name: "an underscore", host: "1_0.1", wantNumeric: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, numeric, err := parseIPv4Host(tt.host)
			require.Equal(t, tt.wantNumeric, numeric, "numeric: got %v, want %v", numeric, tt.wantNumeric)
			if tt.wantErr {
				require.ErrorIs(t, err, errNotIPv4, "got %v, want %v", err, errNotIPv4)
				return
			}
			require.NoError(t, err, "got %v, want nil", err)
			if tt.want == "" {
				require.False(t, addr.IsValid(), "got %v, want no address", addr)
				return
			}
			require.Equal(t, netip.MustParseAddr(tt.want), addr, "got %v, want %v", addr, tt.want)
		})
	}
}
