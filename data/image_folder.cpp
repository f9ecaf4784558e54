// The image-folder dataset: list class folders and files in sorted order, read and decode them
// in parallel into one N x H x W x 3 tensor, then drop (or reject) the files that were not images.
#include "data/image_folder.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "data/image_decoder.h"
#include "data/resize.h"

namespace remix::data {
namespace fs = std::filesystem;

namespace {

struct ImageFile {
  fs::path path;
  int32_t label;
};

// What happened to one file during decoding.
struct Outcome {
  enum Kind { ok, unreadable, wrong_size } kind = ok;
  std::string detail;
};

bool is_hidden(const fs::path& p) {
  return p.filename().string().starts_with('.');
}

// Sorted non-hidden entries of `dir` that satisfy `keep`.
template <class Keep>
std::vector<fs::path> sorted_entries(const fs::path& dir, Keep keep) {
  std::vector<fs::path> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (!is_hidden(e.path()) && keep(e)) out.push_back(e.path());
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return out;
}

// Fills d.num_classes and d.class_names; returns every file with its label.
std::vector<ImageFile> list_files(const fs::path& root, Dataset& d) {
  REMIX_CHECK(fs::is_directory(root), "image folder '{}' does not exist or is not a folder",
              root.string());
  const std::vector<fs::path> classes =
      sorted_entries(root, [](const fs::directory_entry& e) { return e.is_directory(); });
  REMIX_CHECK(!classes.empty(),
              "image folder '{}' has no class sub-folders (expected {}/<class>/<image>)",
              root.string(), root.string());
  std::vector<ImageFile> files;
  for (size_t c = 0; c < classes.size(); ++c) {
    const std::vector<fs::path> found = sorted_entries(
        classes[c], [](const fs::directory_entry& e) { return e.is_regular_file(); });
    REMIX_CHECK(!found.empty(), "class folder '{}' is empty: every class needs at least one image",
                classes[c].string());
    for (const fs::path& p : found) files.push_back({p, static_cast<int32_t>(c)});
    d.class_names.push_back(classes[c].filename().string());
  }
  d.num_classes = static_cast<int64_t>(classes.size());
  return files;
}

bool read_bytes(const fs::path& path, std::vector<uint8_t>& bytes, std::string& error) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    error = "cannot open the file";
    return false;
  }
  const std::streamoff size = in.tellg();
  bytes.resize(static_cast<size_t>(std::max<std::streamoff>(size, 0)));
  in.seekg(0);
  if (size < 0 || !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    error = "cannot read the file";
    return false;
  }
  return true;
}

// The size every image must have: the resize target, or else the size of the first file (in
// sorted order) whose header reads.
void choose_image_size(const std::vector<ImageFile>& files, const ImageFolderOptions& options,
                       int64_t& height, int64_t& width) {
  if (options.resize_height > 0 && options.resize_width > 0) {
    height = options.resize_height;
    width = options.resize_width;
    return;
  }
  REMIX_CHECK(options.resize_height == 0 && options.resize_width == 0,
              "image folder: resize needs both a height and a width, got {}x{}",
              options.resize_height, options.resize_width);
  std::vector<uint8_t> bytes;
  std::string error;
  for (const ImageFile& f : files) {
    ImageHeader header;
    if (read_bytes(f.path, bytes, error) && read_image_header(bytes, header, error)) {
      height = header.height;
      width = header.width;
      return;
    }
  }
  height = width = 0;  // nothing readable: decoding will report every file
}

// Decodes files[i] into image slot i, resizing when asked; never throws.
Outcome decode_into(const ImageFile& file, int64_t height, int64_t width, bool resize,
                    uint8_t* slot) {
  std::vector<uint8_t> bytes;
  DecodedImage image;
  std::string error;
  if (!read_bytes(file.path, bytes, error) || !decode_rgb(bytes, image, error))
    return {Outcome::unreadable, error};
  if (image.height == height && image.width == width) {
    std::memcpy(slot, image.rgb.data(), image.rgb.size());
    return {};
  }
  if (!resize) return {Outcome::wrong_size, fmt::format("{}x{}", image.width, image.height)};
  const std::vector<uint8_t> resized =
      resize_bilinear(image.rgb.data(), image.height, image.width, 3, height, width);
  std::memcpy(slot, resized.data(), resized.size());
  return {};
}

std::string relative_name(const fs::path& file, const fs::path& root) {
  return file.lexically_relative(root).string();
}

void warn_skipped(const fs::path& root, const std::vector<std::string>& skipped) {
  std::string names;
  const size_t shown = std::min<size_t>(skipped.size(), 3);
  for (size_t i = 0; i < shown; ++i) names += (i ? ", " : "") + skipped[i];
  if (skipped.size() > shown) names += ", ...";
  std::fprintf(stderr, "remix: warning: skipped %zu unreadable file(s) in image folder '%s': %s\n",
               skipped.size(), root.string().c_str(), names.c_str());
}

}  // namespace

Dataset load_image_folder(const fs::path& root, const ImageFolderOptions& options) {
  Dataset d;
  const std::vector<ImageFile> files = list_files(root, d);
  int64_t height = 0, width = 0;
  choose_image_size(files, options, height, width);
  const bool resize = options.resize_height > 0;
  const auto n = static_cast<int64_t>(files.size());
  const int64_t image_bytes = height * width * 3;

  Tensor decoded({n, height, width, 3}, DType::u8);
  uint8_t* pixels = decoded.data<uint8_t>();
  std::vector<Outcome> outcomes(files.size());
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 32) num_threads(threads)
  for (int64_t i = 0; i < n; ++i)
    outcomes[i] = decode_into(files[i], height, width, resize, pixels + i * image_bytes);

  // Report in file order, so that the message does not depend on thread timing.
  std::vector<int64_t> kept;
  std::vector<std::string> skipped;
  for (int64_t i = 0; i < n; ++i) {
    const Outcome& o = outcomes[i];
    REMIX_CHECK(o.kind != Outcome::wrong_size,
                "image '{}' is {}, expected {}x{} like the images before it; set a resize size "
                "to load images of different sizes",
                files[i].path.string(), o.detail, width, height);
    REMIX_CHECK(o.kind == Outcome::ok || !options.strict, "cannot load image '{}': {}",
                files[i].path.string(), o.detail);
    if (o.kind == Outcome::ok)
      kept.push_back(i);
    else
      skipped.push_back(relative_name(files[i].path, root) + " (" + o.detail + ")");
  }

  const auto m = static_cast<int64_t>(kept.size());
  d.images = m == n ? decoded : Tensor({m, height, width, 3}, DType::u8);
  d.labels = Tensor({m}, DType::i32);
  std::vector<int64_t> per_class(d.num_classes, 0);
  for (int64_t j = 0; j < m; ++j) {
    const ImageFile& f = files[kept[j]];
    if (m != n)
      std::memcpy(d.images.data<uint8_t>() + j * image_bytes, pixels + kept[j] * image_bytes,
                  image_bytes);
    d.labels.data<int32_t>()[j] = f.label;
    ++per_class[f.label];
  }
  for (int64_t c = 0; c < d.num_classes; ++c)
    REMIX_CHECK(per_class[c] > 0, "class folder '{}' has no readable image",
                (root / d.class_names[c]).string());
  if (!skipped.empty()) warn_skipped(root, skipped);
  return d;
}

}  // namespace remix::data
