/** The part of sodium-native (libsodium, prebuilt binaries shipped in the npm package) that crypto.ts uses. */
declare module 'sodium-native' {
  export function crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}
