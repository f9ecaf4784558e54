// CIFAR-10 and CIFAR-100 in their binary versions (cifar-10-binary.tar.gz,
// cifar-100-binary.tar.gz).
//
// A file is a sequence of fixed-size records, each one or two label bytes followed by a 32x32
// colour image of 3072 bytes stored as three 1024-byte planes (red, green, blue; rows top to
// bottom). remix converts the planes to NHWC on load.
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin (test);
//              records of 1 label byte (0..9) + 3072 bytes; 10,000 records per file.
//   CIFAR-100: train.bin (50,000 records), test.bin (10,000); records of a coarse label byte
//              (0..19), a fine label byte (0..99) and 3072 bytes.
// Every file's size, every label and the presence of every file are checked; errors name the file.
#pragma once

#include <filesystem>
#include <vector>

#include "data/dataset.h"

namespace remix::data {

enum class CifarLabels { fine, coarse };  // which CIFAR-100 label to use (fine: 100 classes)

// `dir` holds the .bin files, or is the folder the archive was extracted into (with
// cifar-10-batches-bin/ or cifar-100-binary/ inside).
Dataset load_cifar10(const std::filesystem::path& dir, Split split);
Dataset load_cifar100(const std::filesystem::path& dir, Split split,
                      CifarLabels labels = CifarLabels::fine);

enum class CifarFormat { cifar10, cifar100_fine, cifar100_coarse };

// The reader under both loaders: `files` in order, each exactly `records_per_file` records.
// load_cifar10/100 pass the official counts; a smaller count reads small files (tests).
Dataset read_cifar_files(const std::vector<std::filesystem::path>& files, CifarFormat format,
                         int64_t records_per_file);

}  // namespace remix::data
