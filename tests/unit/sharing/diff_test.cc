#include "operator/sharing/diff.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cte::sharing {
namespace {

using Action = ListChange::Action;
using V = std::vector<std::string>;
const std::string P = kPlaceholderUrl;

V Sorted(V v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(DiffTest, NothingChangedSendsNothing) {
  auto c = DiffList({"a", "b"}, {"b", "a"}, {"a", "b"}, api::Ownership::kShared, P);
  EXPECT_EQ(c.action, Action::kNone);
  c = DiffList({"a", "b"}, {"b", "a"}, {"a", "b"}, api::Ownership::kExclusive, P);
  EXPECT_EQ(c.action, Action::kNone);
}

TEST(DiffTest, OnlyAdditionsAppendJustThem) {
  auto c = DiffList({"c", "a", "b"}, {"a", "b"}, {"a", "b"}, api::Ownership::kShared, P);
  EXPECT_EQ(c.action, Action::kAppend);
  EXPECT_EQ(c.entries, V{"c"});
  EXPECT_EQ(c.added, 1u);
  EXPECT_EQ(Sorted(c.owned), (V{"a", "b", "c"}));
}

TEST(DiffTest, SharedRemovesOnlyWhatItPushedAndKeepsHandAddedEntries) {
  // "admin" was added by hand; "old" was ours and is no longer wanted.
  auto c = DiffList({"a", "new"}, {"a", "old", "admin"}, {"a", "old"}, api::Ownership::kShared, P);
  EXPECT_EQ(c.action, Action::kReplace);
  EXPECT_EQ(Sorted(c.entries), (V{"a", "admin", "new"}));
  EXPECT_EQ(c.removed, 1u);
  EXPECT_EQ(Sorted(c.owned), (V{"a", "new"}));
  EXPECT_EQ(ForeignEntries({"a", "old", "admin", P}, {"a", "old"}, P), V{"admin"});
}

TEST(DiffTest, ExclusiveRevertsHandEdits) {
  auto c = DiffList({"a"}, {"a", "admin"}, {"a"}, api::Ownership::kExclusive, P);
  EXPECT_EQ(c.action, Action::kReplace);
  EXPECT_EQ(c.entries, V{"a"});
  EXPECT_EQ(c.owned, V{"a"});
}

TEST(DiffTest, AnEntryThatWasThereBeforeStaysSomeoneElsesUnderShared) {
  // We want "x", which an administrator had already added: nothing to send, and "x" does not
  // become ours, so it is not removed when we stop wanting it.
  auto c = DiffList({"x"}, {"x"}, {}, api::Ownership::kShared, P);
  EXPECT_EQ(c.action, Action::kNone);
  EXPECT_TRUE(c.owned.empty());
  auto later = DiffList({}, {"x"}, c.owned, api::Ownership::kShared, P);
  EXPECT_EQ(later.action, Action::kNone);
}

TEST(DiffTest, AnEmptyListHoldsThePlaceholderWhichGoesWhenEntriesCome) {
  auto emptied = DiffList({}, {"a"}, {"a"}, api::Ownership::kShared, P);
  EXPECT_EQ(emptied.action, Action::kReplace);
  EXPECT_EQ(emptied.entries, V{P});
  EXPECT_TRUE(emptied.owned.empty());
  auto filled = DiffList({"b"}, {P}, {}, api::Ownership::kShared, P);
  EXPECT_EQ(filled.action, Action::kReplace);  // the placeholder must go
  EXPECT_EQ(filled.entries, V{"b"});
  EXPECT_EQ(filled.owned, V{"b"});
  auto still_empty = DiffList({}, {P}, {}, api::Ownership::kExclusive, P);
  EXPECT_EQ(still_empty.action, Action::kNone);
}

TEST(DiffTest, SomeoneRemovedOneOfOursByHandUnderSharedItComesBack) {
  auto c = DiffList({"a", "b"}, {"a"}, {"a", "b"}, api::Ownership::kShared, P);
  EXPECT_EQ(c.action, Action::kAppend);
  EXPECT_EQ(c.entries, V{"b"});
}

}  // namespace
}  // namespace cte::sharing
