#include "base/random.h"

#include <sodium.h>

#include <cstring>

#include "base/check.h"

namespace blindfold {
namespace {
void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  BF_CHECK(ok);
}
}  // namespace

void SecureZero(void* p, std::size_t n) { sodium_memzero(p, n); }

Seed::Seed(std::span<const uint8_t, kSize> bytes) {
  std::memcpy(bytes_.data(), bytes.data(), kSize);
}

Seed Seed::FromOs() {
  EnsureSodium();
  Seed s;
  randombytes_buf(s.bytes_.data(), kSize);
  return s;
}

bool Seed::operator==(const Seed& o) const {
  return sodium_memcmp(bytes_.data(), o.bytes_.data(), kSize) == 0;
}

Prng::Prng(const Seed& seed, uint64_t domain) {
  EnsureSodium();
  static_assert(crypto_stream_chacha20_KEYBYTES == 32);
  static_assert(crypto_stream_chacha20_NONCEBYTES == 8);
  std::memcpy(key_.data(), seed.bytes().data(), 32);
  for (int i = 0; i < 8; ++i) nonce_[i] = static_cast<uint8_t>(domain >> (8 * i));
}

Prng::~Prng() {
  SecureZero(key_.data(), key_.size());
  SecureZero(buf_.data(), buf_.size());
}

void Prng::Refill() {
  // Keystream = ChaCha20(key, nonce, counter) XOR zeros.
  std::memset(buf_.data(), 0, kBuf);
  crypto_stream_chacha20_xor_ic(buf_.data(), buf_.data(), kBuf, nonce_.data(),
                                block_counter_, key_.data());
  block_counter_ += kBuf / 64;
  pos_ = 0;
}

void Prng::Fill(void* out, std::size_t n) {
  auto* dst = static_cast<uint8_t*>(out);
  while (n > 0) {
    if (pos_ == kBuf) Refill();
    std::size_t take = std::min(n, kBuf - pos_);
    std::memcpy(dst, buf_.data() + pos_, take);
    pos_ += take;
    dst += take;
    n -= take;
  }
}

uint64_t Prng::NextU64() {
  uint64_t v;
  Fill(&v, sizeof v);
  return v;
}

uint32_t Prng::NextU32() {
  uint32_t v;
  Fill(&v, sizeof v);
  return v;
}

}  // namespace blindfold
