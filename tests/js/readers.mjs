// The interop tests' driver for independent JavaScript readers of sops files (run by
// tests/js_readers.rs as `node --input-type=module -e <this file> -- COMMAND ARGS...`, from the
// folder the packages are installed in, so imports resolve there). Output is canonical JSON
// (object keys sorted) so it compares as text.
//   sops-age FILE TYPE      decrypt with sops-age (age identity in SESAME_JS_AGE_KEY)
//   sops-decoder FILE       decrypt a JSON file with sops-decoder (AWS KMS from the environment)
//   canon                   canonical form of the JSON on stdin
//   age-keygen              a new hybrid post-quantum identity and its recipient, one per line
//   age-encrypt RECIPIENT   encrypt stdin (hex) to RECIPIENT, print the armored file
//   age-decrypt             decrypt the armored file on stdin with SESAME_JS_AGE_KEY, print hex
import { readFileSync } from "node:fs";

const canon = (v) =>
  Array.isArray(v)
    ? v.map(canon)
    : v !== null && typeof v === "object"
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]))
      : v;
const print = (v) => process.stdout.write(JSON.stringify(canon(v)) + "\n");
const stdin = () => readFileSync(0, "utf8");
const key = () => {
  const k = process.env.SESAME_JS_AGE_KEY;
  if (!k) throw new Error("SESAME_JS_AGE_KEY is not set");
  return k;
};

const args = process.argv.slice(1).filter((a, i) => !(i === 0 && a === "--"));
const [command, ...rest] = args;
switch (command) {
  case "sops-age": {
    const { decryptSops } = await import("sops-age");
    const [path, fileType] = rest;
    print(await decryptSops({ path, fileType, secretKey: key() }));
    break;
  }
  case "sops-decoder": {
    const decoder = (await import("sops-decoder")).default;
    print(await decoder.decodeFile(rest[0]));
    break;
  }
  case "canon":
    print(JSON.parse(stdin()));
    break;
  case "age-keygen": {
    const age = await import("age-encryption");
    const identity = await age.generateHybridIdentity();
    process.stdout.write(`${identity}\n${await age.identityToRecipient(identity)}\n`);
    break;
  }
  case "age-encrypt": {
    const age = await import("age-encryption");
    const e = new age.Encrypter();
    e.addRecipient(rest[0]);
    const data = Buffer.from(stdin().trim(), "hex");
    process.stdout.write(age.armor.encode(await e.encrypt(new Uint8Array(data))));
    break;
  }
  case "age-decrypt": {
    const age = await import("age-encryption");
    const d = new age.Decrypter();
    d.addIdentity(key());
    const plain = await d.decrypt(age.armor.decode(stdin()));
    process.stdout.write(Buffer.from(plain).toString("hex") + "\n");
    break;
  }
  default:
    throw new Error(`unknown command ${command}`);
}
