// The safetensors format: round trips, the exact byte layout, atomic writes, malformed files.
#include "nn/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace remix::nn {
namespace {

namespace fs = std::filesystem;

// A file from a header text (not padded) and raw data bytes.
std::vector<uint8_t> file_bytes(const std::string& header, const std::vector<uint8_t>& data) {
  const uint64_t n = header.size();
  std::vector<uint8_t> out(8 + n + data.size());
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), n);
  if (!data.empty()) std::memcpy(out.data() + 8 + n, data.data(), data.size());
  return out;
}

// Decoding `bytes` fails with a message that names the file and contains `expected`.
void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& expected) {
  try {
    decode_safetensors(bytes, "bad.safetensors");
    ADD_FAILURE() << "accepted a file that should fail with: " << expected;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("bad.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

fs::path temp_dir() {
  const fs::path dir =
      fs::temp_directory_path() /
      ("remix-safetensors-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
       "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Safetensors, RoundTripsEveryDtype) {
  SafetensorsFile file;
  file.metadata["remix.step"] = "7";
  file.tensors = {{"f32", SafetensorsDType::F32, {2}, {0, 0, 128, 63, 0, 0, 0, 192}},
                  {"f16", SafetensorsDType::F16, {1, 2}, {0, 60, 0, 188}},
                  {"bf16", SafetensorsDType::BF16, {1}, {128, 63}},
                  {"i32", SafetensorsDType::I32, {2, 1}, {1, 0, 0, 0, 255, 255, 255, 255}},
                  {"u8", SafetensorsDType::U8, {3}, {1, 2, 3}},
                  {"i64", SafetensorsDType::I64, {}, {42, 0, 0, 0, 0, 0, 0, 0}},
                  {"empty", SafetensorsDType::F32, {0, 4}, {}}};
  const SafetensorsFile back = decode_safetensors(encode_safetensors(file), "round trip");
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].name, file.tensors[i].name);
    EXPECT_EQ(back.tensors[i].dtype, file.tensors[i].dtype);
    EXPECT_EQ(back.tensors[i].shape, file.tensors[i].shape);
    EXPECT_EQ(back.tensors[i].data, file.tensors[i].data);
  }
  EXPECT_EQ(back.metadata.at("format"), "pt");
  EXPECT_EQ(back.metadata.at("remix.step"), "7");
  EXPECT_EQ(i64_scalar_value(*back.find("i64"), "round trip"), 42);
}

TEST(Safetensors, ConvertsTensorsAndI64Scalars) {
  const Tensor f = Tensor::from_vector<float>({1.5f, -2.f, 3.f, 0.f}, {2, 2});
  const Tensor i = Tensor::from_vector<int32_t>({-3, 9});
  const Tensor u = Tensor::from_vector<uint8_t>({0, 255});
  for (const Tensor& t : {f, i, u}) {
    const SafetensorsEntry e = entry_from_tensor("t", t);
    const Tensor back = tensor_from_entry(e, "file");
    EXPECT_EQ(back.shape(), t.shape());
    EXPECT_EQ(back.dtype(), t.dtype());
    EXPECT_EQ(std::memcmp(back.raw_data(), t.raw_data(), t.nbytes()), 0);
  }
  EXPECT_EQ(entry_from_tensor("f", f).dtype, SafetensorsDType::F32);
  EXPECT_EQ(i64_scalar_value(i64_scalar_entry("n", -5), "file"), -5);
  EXPECT_THROW(tensor_from_entry(i64_scalar_entry("n", 1), "file"), Error);
  EXPECT_THROW(i64_scalar_value(entry_from_tensor("f", f), "file"), Error);
}

TEST(Safetensors, WritesThePaddedHeaderAndPackedDataByteForByte) {
  SafetensorsFile file;
  file.tensors = {{"b", SafetensorsDType::U8, {3}, {7, 8, 9}},
                  {"a", SafetensorsDType::I32, {1}, {1, 2, 3, 4}}};
  std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},)"
      R"("a":{"dtype":"I32","shape":[1],"data_offsets":[3,7]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  ASSERT_EQ(header.size() % 8, 0u);
  EXPECT_EQ(encode_safetensors(file), file_bytes(header, {7, 8, 9, 1, 2, 3, 4}));
}

TEST(Safetensors, WritesAtomicallyAndReplacesAnExistingFile) {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "model.safetensors").string();
  SafetensorsFile first, second;
  first.tensors = {{"x", SafetensorsDType::U8, {1}, {1}}};
  second.tensors = {{"y", SafetensorsDType::U8, {2}, {2, 3}}};
  write_safetensors(path, first);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  {  // a save killed mid-write leaves a partial <path>.tmp and the previous file intact
    std::ofstream partial(path + ".tmp", std::ios::binary);
    partial << "\x10\x00\x00";
  }
  EXPECT_EQ(read_safetensors(path).tensors[0].name, "x");
  write_safetensors(path, second);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const SafetensorsFile back = read_safetensors(path);
  ASSERT_EQ(back.tensors.size(), 1u);
  EXPECT_EQ(back.tensors[0].name, "y");
  EXPECT_THROW(write_safetensors((dir / "missing" / "m.safetensors").string(), first), Error);
  EXPECT_THROW(read_safetensors((dir / "absent.safetensors").string()), Error);
  fs::remove_all(dir);
}

const std::string kGood = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST(Safetensors, RejectsTruncatedFilesAndBadHeaderLengths) {
  expect_rejected({1, 2, 3}, "truncated");
  std::vector<uint8_t> too_long = file_bytes(kGood, std::vector<uint8_t>(8));
  too_long[0] = 200;  // header length 200 > the file
  expect_rejected(too_long, "larger than the file");
  std::vector<uint8_t> absurd = file_bytes(kGood, std::vector<uint8_t>(8));
  absurd[7] = 1;  // 2^56 bytes
  expect_rejected(absurd, "absurd");
  expect_rejected(file_bytes(kGood, std::vector<uint8_t>(6)), "out of range");
}

TEST(Safetensors, RejectsInvalidJsonAndUnknownDtypes) {
  expect_rejected(file_bytes(R"({"t": {"dtype": )", {}), "not valid JSON");
  expect_rejected(file_bytes("[1, 2]", {}), "JSON object");
  expect_rejected(file_bytes(R"({"t":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
                             std::vector<uint8_t>(8)),
                  "unknown dtype 'F64'");
  expect_rejected(file_bytes(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                             std::vector<uint8_t>(4)),
                  "tensor 't'");
  expect_rejected(file_bytes(R"({"__metadata__":{"format":1}})", {}), "must be a string");
}

TEST(Safetensors, RejectsOffsetsThatOverlapLeaveGapsOrMismatchTheShape) {
  expect_rejected(file_bytes(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                             std::vector<uint8_t>(6)),
                  "overlap");
  expect_rejected(file_bytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                             R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
                             std::vector<uint8_t>(6)),
                  "gap");
  expect_rejected(file_bytes(kGood, std::vector<uint8_t>(12)), "after the last tensor");
  expect_rejected(file_bytes(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                             std::vector<uint8_t>(8)),
                  "needs 12");
  expect_rejected(file_bytes(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
                             std::vector<uint8_t>(8)),
                  "tensor 't'");
}

TEST(Safetensors, RefusesAHeaderNestedTooDeepBeforeParsingIt) {
  // A "shape" nested 100,000 levels deep: parsing it recursed until the stack overflowed.
  std::ifstream in(std::string(REMIX_TESTS_DIR) + "/nn/fixtures/st_deep_shape_100k.safetensors",
                   std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  try {
    decode_safetensors(bytes, "deep.safetensors");
    ADD_FAILURE() << "a header nested 100,000 levels deep was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("deep.safetensors: the header: JSON nested more than 64"),
              std::string::npos)
        << e.what();
  }
  expect_rejected(file_bytes(R"({"w":{"dtype":"F32","shape":)" + std::string(65, '[') +
                                 std::string(65, ']') + "}}",
                             {}),
                  "nested more than 64 levels");
}

}  // namespace
}  // namespace remix::nn
