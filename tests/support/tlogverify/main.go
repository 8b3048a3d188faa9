// Command tlogverify checks this project's checkpoints and proofs with the Go reference
// implementation of their formats (golang.org/x/mod/sumdb/note and sumdb/tlog), not with our
// own code:
//
//	tlogverify KEY inclusion PROOF_FILE               a C2SP tlog-proof@v1 file
//	tlogverify KEY consistency OLD_NOTE NEW_NOTE PROOF_FILE  (one base64 hash a line)
//
// KEY is the log's note verifier key (name+hash+key). Exit 0 and "ok" when the proof holds.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type checkpoint struct {
	size int64
	root tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func hash(text string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(raw) != tlog.HashSize {
		fail("not a base64 SHA-256 hash: %q", text)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

// open checks the note's signature with the log's key and reads its checkpoint body.
func open(verifier note.Verifier, signed []byte) checkpoint {
	n, err := note.Open(signed, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("a checkpoint is an origin, a size and a root hash")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	return checkpoint{size, hash(lines[2])}
}

func hashes(lines []string) []tlog.Hash {
	var out []tlog.Hash
	for _, line := range lines {
		if line != "" {
			out = append(out, hash(line))
		}
	}
	return out
}

func read(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return data
}

func inclusion(verifier note.Verifier, path string) {
	head, signed, found := strings.Cut(string(read(path)), "\n\n")
	lines := strings.Split(head, "\n")
	if !found || len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" {
		fail("not a tlog-proof@v1 file")
	}
	entry, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
	if err != nil {
		fail("extra: %v", err)
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
	if err != nil {
		fail("index: %v", err)
	}
	tree := open(verifier, []byte(signed))
	leaf := tlog.RecordHash(entry) // SHA-256(0x00 || entry)
	if err := tlog.CheckRecord(hashes(lines[3:]), tree.size, tree.root, index, leaf); err != nil {
		fail("inclusion: %v", err)
	}
	fmt.Printf("ok: entry %d (%x) in a tree of %d\n", index, sha256.Sum256(entry), tree.size)
}

func consistency(verifier note.Verifier, oldPath, newPath, proofPath string) {
	old, current := open(verifier, read(oldPath)), open(verifier, read(newPath))
	proof := hashes(strings.Split(string(read(proofPath)), "\n"))
	if err := tlog.CheckTree(proof, current.size, current.root, old.size, old.root); err != nil {
		fail("consistency: %v", err)
	}
	fmt.Printf("ok: tree of %d is a prefix of the tree of %d\n", old.size, current.size)
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: tlogverify KEY inclusion PROOF | KEY consistency OLD NEW PROOF")
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("verifier key: %v", err)
	}
	switch {
	case os.Args[2] == "inclusion":
		inclusion(verifier, os.Args[3])
	case os.Args[2] == "consistency" && len(os.Args) == 6:
		consistency(verifier, os.Args[3], os.Args[4], os.Args[5])
	default:
		fail("unknown check %q", os.Args[2])
	}
}
