#include "lp2p/streamtab.h"

#include "lp2p/common.h"

#include <stdlib.h>

#define INITIAL_BITS 4
/* 16 M slots: far past any stream cap, keeps the shift below 32. */
#define MAX_BITS 24

/* Fibonacci hashing: ids are sequential, the multiplier spreads them. */
static size_t slot(const lp2p_stream_table *t, uint32_t id) {
  return (uint32_t)(id * 2654435761u) >> (32 - t->bits);
}

int lp2p_stream_table_init(lp2p_stream_table *t) {
  t->bits = INITIAL_BITS;
  t->count = 0;
  t->slots = calloc((size_t)1 << t->bits, sizeof *t->slots);
  return t->slots ? 0 : LP2P_ENOMEM;
}

lp2p_stream_node *lp2p_stream_table_find(const lp2p_stream_table *t, uint32_t id) {
  for (lp2p_stream_node *n = t->slots[slot(t, id)]; n; n = n->next)
    if (n->id == id) return n;
  return NULL;
}

static int grow(lp2p_stream_table *t) {
  unsigned old_bits = t->bits;
  lp2p_stream_node **old = t->slots;
  lp2p_stream_node **slots = calloc((size_t)1 << (old_bits + 1), sizeof *slots);
  if (!slots) return LP2P_ENOMEM;
  t->slots = slots;
  t->bits = old_bits + 1;
  for (size_t i = 0; i < (size_t)1 << old_bits; i++) {
    for (lp2p_stream_node *n = old[i], *next; n; n = next) {
      next = n->next;
      size_t k = slot(t, n->id);
      n->next = slots[k];
      slots[k] = n;
    }
  }
  free(old);
  return 0;
}

int lp2p_stream_table_insert(lp2p_stream_table *t, lp2p_stream_node *n) {
  if (t->count >= ((size_t)1 << t->bits) && t->bits < MAX_BITS) {
    int rc = grow(t);
    if (rc) return rc;
  }
  size_t k = slot(t, n->id);
  n->next = t->slots[k];
  t->slots[k] = n;
  t->count++;
  return 0;
}

void lp2p_stream_table_remove(lp2p_stream_table *t, lp2p_stream_node *n) {
  for (lp2p_stream_node **pp = &t->slots[slot(t, n->id)]; *pp; pp = &(*pp)->next) {
    if (*pp == n) {
      *pp = n->next;
      t->count--;
      return;
    }
  }
}

lp2p_stream_node *lp2p_stream_table_any(const lp2p_stream_table *t) {
  if (t->count == 0) return NULL;
  for (size_t i = 0; i < (size_t)1 << t->bits; i++)
    if (t->slots[i]) return t->slots[i];
  return NULL;
}

void lp2p_stream_table_free(lp2p_stream_table *t) {
  free(t->slots);
  t->slots = NULL;
  t->count = 0;
}
