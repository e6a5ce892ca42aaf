#include <varena/pmr.hpp>

#if VARENA_HAS_PMR
namespace varena {

void* MemoryResource::do_allocate(std::size_t bytes, std::size_t align) { return arena_->push_uninit(bytes, align); }

void MemoryResource::do_deallocate(void* p, std::size_t bytes, std::size_t) {
  arena_->extend(p, bytes, 0);  // gives the block back only if it is the last one
}

bool MemoryResource::do_is_equal(const std::pmr::memory_resource& other) const noexcept {
  if (this == &other) return true;
  const auto* resource = dynamic_cast<const MemoryResource*>(&other);
  return resource != nullptr && resource->arena_ == arena_;
}

}  // namespace varena
#endif
