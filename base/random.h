// File: base/random.h
// Randomness for the engine: 32-byte seeds from the OS CSPRNG (libsodium's
// randombytes, i.e. getrandom(2)), and a deterministic ChaCha20 keystream
// expanded from a seed. Seeds and stream state are wiped when destroyed.
#ifndef BLINDFOLD_BASE_RANDOM_H_
#define BLINDFOLD_BASE_RANDOM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace blindfold {

// Overwrites `n` bytes at `p` in a way the compiler may not elide.
void SecureZero(void* p, std::size_t n);

// A 32-byte secret seed, zeroed on destruction.
class Seed {
 public:
  static constexpr std::size_t kSize = 32;
  Seed() { bytes_.fill(0); }
  explicit Seed(std::span<const uint8_t, kSize> bytes);
  Seed(const Seed& other) = default;
  Seed& operator=(const Seed& other) = default;
  ~Seed() { SecureZero(bytes_.data(), kSize); }

  // A fresh seed from the operating system's CSPRNG.
  static Seed FromOs();

  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }
  bool operator==(const Seed& o) const;

 private:
  std::array<uint8_t, kSize> bytes_;
};

// Deterministic keystream: ChaCha20 (original 64-bit nonce, 64-bit block
// counter) keyed by a seed, with a 64-bit `domain` as nonce so that one seed
// can feed independent streams. Buffered; not thread-safe.
class Prng {
 public:
  Prng(const Seed& seed, uint64_t domain);
  ~Prng();
  Prng(const Prng&) = delete;
  Prng& operator=(const Prng&) = delete;

  void Fill(void* out, std::size_t n);
  uint64_t NextU64();
  uint32_t NextU32();

 private:
  void Refill();
  static constexpr std::size_t kBuf = 4096;
  std::array<uint8_t, 32> key_;
  std::array<uint8_t, 8> nonce_;
  uint64_t block_counter_ = 0;
  std::array<uint8_t, kBuf> buf_;
  std::size_t pos_ = kBuf;
};

}  // namespace blindfold

#endif  // BLINDFOLD_BASE_RANDOM_H_
