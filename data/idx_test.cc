// File: data/idx_test.cc
// The IDX reader on good and damaged files written into a temporary directory,
// and on the installed Fashion-MNIST test split.
#include "data/idx.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/fashion_mnist.h"
#include "gtest/gtest.h"

namespace blindfold::data {
namespace {

std::string BigEndian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

// IDX bytes: labels file with `n` labels (0..9 cycling).
std::string LabelsIdx(uint32_t n) {
  std::string s = BigEndian(kIdxLabelsMagic) + BigEndian(n);
  for (uint32_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i % 10));
  return s;
}

// IDX bytes: `n` images of rows x cols, pixel (i, k) = (i + k) % 256.
std::string ImagesIdx(uint32_t n, uint32_t rows, uint32_t cols) {
  std::string s = BigEndian(kIdxImagesMagic) + BigEndian(n) +
                  BigEndian(rows) + BigEndian(cols);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t k = 0; k < rows * cols; ++k) {
      s.push_back(static_cast<char>((i + k) % 256));
    }
  }
  return s;
}

class IdxFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bf_idx_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteGzip(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    gzFile f = gzopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, bytes.data(), bytes.size()),
              static_cast<int>(bytes.size()));
    EXPECT_EQ(gzclose(f), Z_OK);
    return path;
  }
  std::string WritePlain(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string ReadRaw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::filesystem::path dir_;
};

TEST_F(IdxFileTest, ReadsGoodGzipFiles) {
  auto images = ReadIdxFile(WriteGzip("i.gz", ImagesIdx(3, 28, 28)),
                            kIdxImagesMagic);
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->dims, (std::vector<uint32_t>{3, 28, 28}));
  ASSERT_EQ(images->values.size(), 3u * 784);
  EXPECT_EQ(images->values[784 + 5], 6);
  auto labels = ReadIdxFile(WriteGzip("l.gz", LabelsIdx(12)), kIdxLabelsMagic);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->values[11], 1);
}

TEST_F(IdxFileTest, ReadsUncompressedFile) {
  auto labels = ReadIdxFile(WritePlain("l", LabelsIdx(4)), kIdxLabelsMagic);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->dims, (std::vector<uint32_t>{4}));
}

TEST_F(IdxFileTest, MissingFileIsNotFound) {
  auto r = ReadIdxFile((dir_ / "absent.gz").string(), kIdxLabelsMagic);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("absent.gz"), std::string::npos);
}

TEST_F(IdxFileTest, WrongMagicNamesBothValues) {
  auto r = ReadIdxFile(WriteGzip("l.gz", LabelsIdx(4)), kIdxImagesMagic);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("magic 0x00000801, expected 0x00000803"),
            std::string::npos)
      << r.status();
}

TEST_F(IdxFileTest, PayloadLengthMustMatchDimensions) {
  std::string shorter = ImagesIdx(2, 28, 28);
  shorter.pop_back();
  auto r = ReadIdxFile(WriteGzip("s.gz", shorter), kIdxImagesMagic);
  EXPECT_NE(r.status().message().find("payload is 1567 bytes, expected 1568"),
            std::string::npos)
      << r.status();
  std::string longer = LabelsIdx(5) + "x";
  r = ReadIdxFile(WriteGzip("x.gz", longer), kIdxLabelsMagic);
  EXPECT_NE(r.status().message().find("payload is 6 bytes, expected 5"),
            std::string::npos)
      << r.status();
}

TEST_F(IdxFileTest, HeaderTruncatedAndDimensionBounds) {
  std::string header_only = BigEndian(kIdxImagesMagic) + BigEndian(2);
  auto r = ReadIdxFile(WriteGzip("h.gz", header_only), kIdxImagesMagic);
  EXPECT_NE(r.status().message().find("header truncated"), std::string::npos)
      << r.status();
  // A huge item count is rejected before anything is allocated.
  std::string huge = BigEndian(kIdxLabelsMagic) + BigEndian(0xffffffffu);
  r = ReadIdxFile(WriteGzip("g.gz", huge), kIdxLabelsMagic);
  EXPECT_NE(r.status().message().find("dimension 0 is 4294967295"),
            std::string::npos)
      << r.status();
  std::string zero = BigEndian(kIdxLabelsMagic) + BigEndian(0);
  r = ReadIdxFile(WriteGzip("z.gz", zero), kIdxLabelsMagic);
  EXPECT_FALSE(r.ok());
  r = ReadIdxFile(WriteGzip("e.gz", ""), kIdxLabelsMagic);
  EXPECT_NE(r.status().message().find("shorter than the magic"),
            std::string::npos)
      << r.status();
}

TEST_F(IdxFileTest, TruncatedGzipIsDataLoss) {
  std::string good = WriteGzip("t.gz", ImagesIdx(50, 28, 28));
  std::string raw = ReadRaw(good);
  ASSERT_GT(raw.size(), 100u);
  auto r = ReadIdxFile(WritePlain("cut.gz", raw.substr(0, raw.size() / 2)),
                       kIdxImagesMagic);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find("cut.gz"), std::string::npos);
}

TEST_F(IdxFileTest, CorruptGzipIsDataLoss) {
  std::string raw = ReadRaw(WriteGzip("c.gz", ImagesIdx(50, 28, 28)));
  for (size_t i = 20; i < 60; ++i) raw[i] = static_cast<char>(raw[i] ^ 0x5a);
  auto r = ReadIdxFile(WritePlain("bad.gz", raw), kIdxImagesMagic);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
}

TEST_F(IdxFileTest, NotGzipNotIdxIsRejected) {
  auto r = ReadIdxFile(WritePlain("text.gz", "this is not an IDX file\n"),
                       kIdxImagesMagic);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("magic"), std::string::npos);
}

TEST_F(IdxFileTest, FashionMnistLoaderChecksPairing) {
  WriteGzip(ImagesFileName(Split::kTest), ImagesIdx(3, 28, 28));
  WriteGzip(LabelsFileName(Split::kTest), LabelsIdx(4));
  auto r = LoadFashionMnist(dir_.string(), Split::kTest);
  EXPECT_NE(r.status().message().find("3 images but 4 labels"),
            std::string::npos)
      << r.status();
  WriteGzip(ImagesFileName(Split::kTest), ImagesIdx(4, 27, 28));
  r = LoadFashionMnist(dir_.string(), Split::kTest);
  EXPECT_NE(r.status().message().find("27x28"), std::string::npos)
      << r.status();
  std::string bad_label = LabelsIdx(4);
  bad_label.back() = 10;
  WriteGzip(ImagesFileName(Split::kTest), ImagesIdx(4, 28, 28));
  WriteGzip(LabelsFileName(Split::kTest), bad_label);
  r = LoadFashionMnist(dir_.string(), Split::kTest);
  EXPECT_NE(r.status().message().find("label 3 is 10"), std::string::npos)
      << r.status();
  WriteGzip(LabelsFileName(Split::kTest), LabelsIdx(4));
  r = LoadFashionMnist(dir_.string(), Split::kTest);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count, 4);
  EXPECT_DOUBLE_EQ(r->Preprocessed(1)[2], 3 / 255.0);
}

// The installed Debian package (scripts/setup.sh installs it).
TEST(FashionMnistTest, InstalledTestSplit) {
  auto r = LoadFashionMnist(std::string(kDefaultFashionMnistDir), Split::kTest);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count, 10000);
  EXPECT_EQ(r->labels[0], 9);  // the first test image is an ankle boot
  int per_class[10] = {};
  for (uint8_t l : r->labels) ++per_class[l];
  for (int c : per_class) EXPECT_EQ(c, 1000);
}

}  // namespace
}  // namespace blindfold::data
