// A dataset read from a folder of images, one sub-folder per class:
//
//   root/airplane/0001.jpg, root/airplane/0002.png, ..., root/truck/0999.bmp
//
// Classes are the sub-folders in sorted name order (label 0 is the first name); inside a class,
// files are taken in sorted name order, so the dataset is the same on every machine. Hidden
// entries (names starting with '.') are ignored. Every other file is decoded by content, not by
// extension, as JPEG, PNG or BMP (see data/image_decoder.h), to RGB: grey is repeated over the
// three channels and alpha is dropped. Files are read and decoded in parallel (OpenMP).
//
// A file that is not a decodable image (a corrupt JPEG, a text file, a GIF) is skipped and
// counted, and one warning line on stderr gives the count and the first few names; with
// `strict` it is a remix::Error naming the file instead. A missing root, a root without class
// folders, a class folder with no (readable) image, and an image whose size differs from the
// others when no resize is asked for are always errors.
#pragma once

#include <filesystem>

#include "data/dataset.h"

namespace remix::data {

struct ImageFolderOptions {
  // Both 0: images keep their size, and all must have the same one (CIFAR's 32x32 JPEGs).
  // Both > 0: every image is resized to resize_height x resize_width (bilinear, data/resize.h).
  int64_t resize_height = 0;
  int64_t resize_width = 0;
  bool strict = false;  // an unreadable file is an error instead of a skipped file
  int threads = 0;      // decoding threads; 0: OpenMP's default (one per core)
};

Dataset load_image_folder(const std::filesystem::path& root,
                          const ImageFolderOptions& options = {});

}  // namespace remix::data
