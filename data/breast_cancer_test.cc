// File: data/breast_cancer_test.cc
// The breast-cancer CSV reader on the installed file and on damaged text
// (bad bytes, wrong field counts, non-numbers, row counts), the split against
// values models/common.py computes, and the dataset view of both datasets.
#include "data/breast_cancer.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "data/dataset.h"
#include "data/split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace blindfold::data {
namespace {

using ::testing::HasSubstr;

// A valid row: 30 numbers (feature c of row r is r + c / 100) and a target.
std::string Row(int r, int target) {
  std::vector<std::string> f;
  for (int c = 0; c < kBreastCancerFeatures; ++c) f.push_back(absl::StrCat(r + c / 100.0));
  f.push_back(absl::StrCat(target));
  return absl::StrJoin(f, ",");
}

// A valid file of `n` rows, targets alternating 0, 1.
std::string Csv(int n) {
  std::string s = absl::StrCat(n, ",30,malignant,benign\n");
  for (int r = 0; r < n; ++r) absl::StrAppend(&s, Row(r, r % 2), "\n");
  return s;
}

// Parses `text`, expects InvalidArgument whose message holds `what`.
void ExpectRejected(const std::string& text, const std::string& what) {
  auto d = ParseBreastCancerCsv(text);
  ASSERT_FALSE(d.ok()) << "accepted: " << text.substr(0, 200);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
  EXPECT_THAT(std::string(d.status().message()), HasSubstr(what));
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("ParseBreastCancerCsv"));
}

// `Csv(3)` with field `field` (1-based) of data row `row` (0-based) replaced.
std::string WithField(int row, int field, const std::string& value) {
  std::string s = "3,30,malignant,benign\n";
  for (int r = 0; r < 3; ++r) {
    std::string line = Row(r, r % 2);
    if (r == row) {
      std::vector<std::string> f = absl::StrSplit(line, ',');
      f[field - 1] = value;
      line = absl::StrJoin(f, ",");
    }
    absl::StrAppend(&s, line, "\n");
  }
  return s;
}

TEST(BreastCancerCsvTest, ParsesWellFormedText) {
  auto d = ParseBreastCancerCsv(Csv(4));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->count, 4);
  ASSERT_EQ(d->features.size(), 4u * 30);
  EXPECT_DOUBLE_EQ(d->features[2 * 30 + 5], 2.05);
  // CSV target 0 is malignant: label 1.
  EXPECT_EQ(d->labels, (std::vector<uint8_t>{1, 0, 1, 0}));
  EXPECT_EQ(d->Patient(3), std::vector<double>(d->features.begin() + 90, d->features.end()));
}

TEST(BreastCancerCsvTest, AcceptsCrlfAndAMissingFinalNewline) {
  std::string crlf;
  for (char c : Csv(2)) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto a = ParseBreastCancerCsv(crlf);
  ASSERT_TRUE(a.ok()) << a.status();
  std::string no_final = Csv(2);
  no_final.pop_back();
  auto b = ParseBreastCancerCsv(no_final);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->features, b->features);
  EXPECT_EQ(a->labels, b->labels);
}

TEST(BreastCancerCsvTest, AcceptsTheDecimalGrammar) {
  for (const char* v : {"0", "-1", "1.", ".5", "-.5", "1e3", "1E-3", "2.5e+2", "007"}) {
    auto d = ParseBreastCancerCsv(WithField(1, 7, v));
    EXPECT_TRUE(d.ok()) << v << ": " << d.status();
  }
  auto d = ParseBreastCancerCsv(WithField(1, 7, "2.5e+2"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->features[30 + 6], 250.0);
}

TEST(BreastCancerCsvTest, RejectsBadBytes) {
  ExpectRejected("", "empty");
  ExpectRejected("\n", "empty");
  std::string nul = Csv(2);
  nul[40] = '\0';
  ExpectRejected(nul, "line 2: byte 0x00 is not printable ASCII");
  std::string high = Csv(2);
  high[high.size() - 5] = static_cast<char>(0xff);
  ExpectRejected(high, "line 3: byte 0xff");
  ExpectRejected("\xEF\xBB\xBF" + Csv(2), "line 1: byte 0xef");  // UTF-8 BOM
  ExpectRejected(WithField(0, 3, "1\t"), "line 2: byte 0x09");
  ExpectRejected(std::string(1000, '\x7f'), "byte 0x7f");
}

TEST(BreastCancerCsvTest, RejectsBadHeaders) {
  const std::string rows = Csv(2).substr(Csv(2).find('\n'));
  ExpectRejected("2,30,malignant" + rows, "header has 3 fields");
  ExpectRejected("2,30,malignant,benign,other" + rows, "header has 5 fields");
  ExpectRejected("two,30,malignant,benign" + rows, "line 1 field 1: 'two' is not a count");
  ExpectRejected("-2,30,malignant,benign" + rows, "'-2' is not a count");
  ExpectRejected(",30,malignant,benign" + rows, "line 1 field 1: '' is not a count");
  ExpectRejected("2,3.0,malignant,benign" + rows, "line 1 field 2: '3.0' is not a count");
  ExpectRejected("2,29,malignant,benign" + rows, "29 features, expected 30");
  ExpectRejected("2,30,benign,malignant" + rows, "line 1 field 3: class 0 is 'benign'");
  ExpectRejected("2,30,malignant,Benign" + rows, "line 1 field 4");
  ExpectRejected("0,30,malignant,benign\n", "0 rows");
  auto big = ParseBreastCancerCsv("2000000,30,malignant,benign" + rows);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted) << big.status();
}

TEST(BreastCancerCsvTest, RejectsWrongFieldCounts) {
  const std::string csv = Csv(3);
  const size_t target = csv.find(",0\n");  // row 0 loses its target
  ExpectRejected(csv.substr(0, target) + csv.substr(target + 2), "line 2: 30 fields, expected 31");
  ExpectRejected(WithField(2, 31, "1,7"), "line 4: 32 fields, expected 31");
  const size_t header_end = csv.find('\n') + 1;
  ExpectRejected(csv.substr(0, header_end) + "\n" + csv.substr(header_end),
                 "line 2: 1 fields, expected 31");
  ExpectRejected(Csv(3) + "\n", "line 5: more rows than the 3");
}

TEST(BreastCancerCsvTest, RejectsNonNumbers) {
  for (const char* v : {"abc", "", " 1", "1 ", "+1", "1.2.3", "0x10", "1e", "1e+",
                        ".", "-", "inf", "-inf", "nan", "NaN", "1_000", "1d0", "\"1\""}) {
    auto d = ParseBreastCancerCsv(WithField(1, 7, v));
    ASSERT_FALSE(d.ok()) << "accepted '" << v << "'";
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("line 3 field 7")) << v;
  }
  ExpectRejected(WithField(1, 7, "abc"), "line 3 field 7: 'abc' is not a number");
  ExpectRejected(WithField(0, 1, "1e999"), "line 2 field 1: '1e999' is out of range");
  ExpectRejected(WithField(0, 30, std::string(100, '9') + "x"), "...' is not a number");
}

TEST(BreastCancerCsvTest, RejectsBadTargets) {
  for (const char* v : {"2", "-1", "0.0", "1.0", "", "malignant", " 0"}) {
    auto d = ParseBreastCancerCsv(WithField(2, 31, v));
    ASSERT_FALSE(d.ok()) << "accepted target '" << v << "'";
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("line 4 field 31: target")) << v;
  }
}

TEST(BreastCancerCsvTest, RejectsRowCountsOtherThanTheHeaders) {
  const std::string rows = Csv(3).substr(1);  // all but the header's count
  ExpectRejected("4" + rows, "the header says 4 rows, the file has 3");
  ExpectRejected("2" + rows, "line 4: more rows than the 2 the header says");
}

TEST(BreastCancerCsvTest, LoadNamesThePath) {
  auto missing = LoadBreastCancer("/nonexistent/breast_cancer.csv");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/"));
  const std::string path =
      (std::filesystem::temp_directory_path() / ("bf_bc_" + std::to_string(::getpid()) + ".csv"))
          .string();
  std::ofstream(path, std::ios::binary) << WithField(1, 2, "x");
  auto bad = LoadBreastCancer(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("LoadBreastCancer " + path + ": line 3 field 2: 'x' is not a number"));
}

// The file Debian's python3-sklearn installs.
TEST(BreastCancerCsvTest, ReadsTheInstalledTable) {
  auto d = LoadBreastCancer(std::string(kDefaultBreastCancerCsv));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->count, 569);
  int malignant = 0;
  for (uint8_t l : d->labels) malignant += l;
  EXPECT_EQ(malignant, 212);
  // First and last rows of the file.
  EXPECT_EQ(d->features[0], 17.99);
  EXPECT_EQ(d->features[29], 0.1189);
  EXPECT_EQ(d->labels[0], 1);
  EXPECT_EQ(d->features[568 * 30], 7.76);
  EXPECT_EQ(d->labels[568], 0);
}

TEST(SplitTest, SplitMix64MatchesTheReferenceSequence) {
  SplitMix64 r(0);
  EXPECT_EQ(r.Next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(r.Next(), 0x6E789E6AA1B965F4ull);
  SplitMix64 s(kBreastCancerSplitSeed);
  EXPECT_EQ(s.Next(), 17486582413981831226ull);  // models/common.py SplitMix64
}

TEST(SplitTest, StratifiedPartitionOfEveryIndex) {
  std::vector<uint8_t> labels;
  for (int i = 0; i < 103; ++i) labels.push_back(i % 3 == 0 ? 1 : 0);
  labels.push_back(7);  // out of range: in neither split
  const SplitIndices s = StratifiedSplit(labels, 2, 42, 25);
  // 35 of class 1 (9 test), 68 of class 0 (17 test).
  EXPECT_EQ(s.test.size(), 26u);
  EXPECT_EQ(s.train.size(), 77u);
  std::set<int> all(s.train.begin(), s.train.end());
  for (int i : s.test) EXPECT_TRUE(all.insert(i).second) << i << " in both";
  EXPECT_EQ(all.size(), 103u);
  EXPECT_EQ(*all.rbegin(), 102);
  EXPECT_TRUE(std::is_sorted(s.test.begin(), s.test.end()));
  int test_ones = 0;
  for (int i : s.test) test_ones += labels[i];
  EXPECT_EQ(test_ones, 9);
  // Deterministic, and the seed matters.
  EXPECT_EQ(StratifiedSplit(labels, 2, 42, 25).test, s.test);
  EXPECT_NE(StratifiedSplit(labels, 2, 43, 25).test, s.test);
  EXPECT_TRUE(StratifiedSplit(labels, 2, 42, 0).test.empty());
  EXPECT_EQ(StratifiedSplit(labels, 2, 42, 100).test.size(), 103u);
}

// The same split models/common.py draws (its first and last test indices;
// tools/model_fixture_test.cc compares all of them with the manifests).
TEST(SplitTest, BreastCancerSplitMatchesPython) {
  auto d = LoadBreastCancer(std::string(kDefaultBreastCancerCsv));
  ASSERT_TRUE(d.ok()) << d.status();
  const SplitIndices s = BreastCancerSplit(*d);
  ASSERT_EQ(s.test.size(), 142u);
  ASSERT_EQ(s.train.size(), 427u);
  EXPECT_EQ(std::vector<int>(s.test.begin(), s.test.begin() + 10),
            (std::vector<int>{0, 3, 6, 9, 13, 14, 21, 24, 35, 36}));
  EXPECT_EQ(std::vector<int>(s.test.end() - 5, s.test.end()),
            (std::vector<int>{543, 547, 557, 563, 568}));
  EXPECT_EQ(std::vector<int>(s.train.begin(), s.train.begin() + 5),
            (std::vector<int>{1, 2, 4, 5, 7}));
  int malignant = 0;
  for (int i : s.test) malignant += d->labels[i];
  EXPECT_EQ(malignant, 53);
}

TEST(DatasetTest, NamesAndSizes) {
  for (DatasetKind k : {DatasetKind::kFashionMnist, DatasetKind::kBreastCancer}) {
    auto parsed = ParseDatasetName(DatasetName(k));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_EQ(DatasetInputSize(DatasetKind::kBreastCancer), 30);
  EXPECT_EQ(DatasetInputSize(DatasetKind::kFashionMnist), 784);
  EXPECT_EQ(*DatasetForInputSize(30), DatasetKind::kBreastCancer);
  EXPECT_EQ(*DatasetForInputSize(784), DatasetKind::kFashionMnist);
  EXPECT_THAT(std::string(DatasetForInputSize(31).status().message()),
              HasSubstr("no dataset has inputs of 31 values"));
  auto bad = ParseDatasetName("mnist");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'mnist' is unknown"));
}

TEST(DatasetTest, BreastCancerSplitsAsExamples) {
  auto test = LoadExamples(DatasetKind::kBreastCancer, "", Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  auto train = LoadExamples(DatasetKind::kBreastCancer, "", Split::kTrain);
  ASSERT_TRUE(train.ok()) << train.status();
  auto raw = LoadBreastCancer(std::string(kDefaultBreastCancerCsv));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(test->count, 142);
  EXPECT_EQ(train->count, 427);
  EXPECT_EQ(test->dim, 30);
  EXPECT_EQ(test->class_names, (std::vector<std::string>{"benign", "malignant"}));
  EXPECT_EQ(test->ids, BreastCancerSplit(*raw).test);
  for (int i : {0, 70, 141}) {
    EXPECT_EQ(test->input(i), raw->Patient(test->ids[i]));
    EXPECT_EQ(test->labels[i], raw->labels[test->ids[i]]);
  }
  auto missing = LoadExamples(DatasetKind::kBreastCancer, "/nonexistent.csv", Split::kTest);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(DatasetTest, FashionMnistTestAsExamples) {
  auto test = LoadExamples(DatasetKind::kFashionMnist, "", Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->count, 10000);
  EXPECT_EQ(test->dim, 784);
  EXPECT_EQ(test->class_names.size(), 10u);
  auto direct = LoadFashionMnist(std::string(kDefaultFashionMnistDir), Split::kTest);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(test->input(17), direct->Preprocessed(17));
  EXPECT_EQ(test->labels[17], direct->labels[17]);
}

}  // namespace
}  // namespace blindfold::data
