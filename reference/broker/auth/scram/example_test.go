package scram_test

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"
)

// The RFC 7677 example exchange. In a broker, nonce sources are nil
// (crypto/rand); fixed nonces make the output reproducible.
func Example() {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	stored := scram.NewCredentials("pencil", salt, 4096).Encode() // e.g. a password file line

	lookup := func(user string) (scram.Credentials, bool) {
		if user != "user" {
			return scram.Credentials{}, false
		}
		c, err := scram.ParseCredentials(stored)
		return c, err == nil
	}
	client := scram.NewClient("user", "pencil", strings.NewReader("rOprNGfwEbeRWgbNEkqO"))
	server := scram.NewServer(lookup, strings.NewReader("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"))

	clientFirst := client.First() // CONNECT, Authentication Data
	serverFirst, err := server.Start(clientFirst)
	if err != nil {
		fmt.Println(err) // CONNACK 0x86 if errors.Is(err, scram.ErrBadCredentials), else 0x87
		return
	}
	clientFinal, _ := client.Final(serverFirst) // AUTH 0x18 each way
	serverFinal, user, err := server.Finish(clientFinal)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(clientFirst))
	fmt.Println(string(serverFirst))
	fmt.Println(string(clientFinal))
	fmt.Println(string(serverFinal)) // CONNACK 0x00, Authentication Data
	fmt.Println(user, client.Verify(serverFinal))
	// Output:
	// n,,n=user,r=rOprNGfwEbeRWgbNEkqO
	// r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096
	// c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=
	// v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=
	// user <nil>
}
