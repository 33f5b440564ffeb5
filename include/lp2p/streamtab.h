/* The muxers' stream table: a chained hash keyed by a 32-bit stream id.
 * Intrusive (each muxer's stream struct embeds an lp2p_stream_node), so a
 * stream never moves while an event callback holds it and the table never
 * allocates per stream. */
#ifndef LP2P_STREAMTAB_H
#define LP2P_STREAMTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct lp2p_stream_node {
  struct lp2p_stream_node *next;
  uint32_t id;
} lp2p_stream_node;

typedef struct lp2p_stream_table {
  lp2p_stream_node **slots;
  unsigned bits;
  size_t count;
} lp2p_stream_table;

/* The struct holding `node`, given its type and member name. */
#define LP2P_STREAM_OF(node, type, member)                                               \
  ((type *)(void *)((char *)(node)-offsetof(type, member)))

/* 0 or LP2P_ENOMEM. */
int lp2p_stream_table_init(lp2p_stream_table *t);
lp2p_stream_node *lp2p_stream_table_find(const lp2p_stream_table *t, uint32_t id);
/* Adds n (n->id set); grows the table first when it is full. 0 or
 * LP2P_ENOMEM. */
int lp2p_stream_table_insert(lp2p_stream_table *t, lp2p_stream_node *n);
void lp2p_stream_table_remove(lp2p_stream_table *t, lp2p_stream_node *n);
/* Some node, or NULL when empty: for draining the table one node at a time
 * while callbacks may remove others. */
lp2p_stream_node *lp2p_stream_table_any(const lp2p_stream_table *t);
/* Frees the slots only; the caller frees its streams first. */
void lp2p_stream_table_free(lp2p_stream_table *t);

#endif
