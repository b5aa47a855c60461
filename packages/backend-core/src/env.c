/* Externals finalized by env teardown at the latest: Bun and Deno skip
 * external finalizers when a Worker ends, which would leak the kernel objects
 * behind them, so every external of an env is also on a list that the env's
 * instance data finalizes. */
#include <stdlib.h>

#include <node_api.h>

#include "glue.h"

/* One per live external of this env, on a list the instance data owns. */
typedef struct tracked_s {
  struct tracked_s* prev;
  struct tracked_s* next;
  void* data;
  napi_finalize fin;
} tracked_t;

static void untrack(tracked_t* t) {
  t->prev->next = t->next;
  t->next->prev = t->prev;
}

static void tracked_finalize(napi_env env, void* data, void* hint) {
  tracked_t* t = (tracked_t*)hint;
  untrack(t);
  t->fin(env, data, NULL);
  free(t);
}

/* The instance data's finalizer, the last thing an env runs (after its
 * cleanup hooks and whatever external finalizers the runtime does run). */
static void env_gone(napi_env env, void* data, void* hint) {
  tracked_t* head = (tracked_t*)data;
  (void)env;
  (void)hint;
  while (head->next != head) {
    tracked_t* t = head->next;
    untrack(t);
    t->fin(NULL, t->data, NULL);
    free(t);
  }
  free(head);
}

napi_status aio_create_external(napi_env env, void* data, napi_finalize fin,
                                napi_value* result) {
  tracked_t* head = NULL;
  tracked_t* t;
  napi_status status = napi_get_instance_data(env, (void**)&head);
  if (status != napi_ok)
    return status;
  if (head == NULL)
    return napi_generic_failure;
  t = (tracked_t*)malloc(sizeof(*t));
  if (t == NULL)
    return napi_generic_failure;
  t->data = data;
  t->fin = fin;
  status = napi_create_external(env, data, tracked_finalize, t, result);
  if (status != napi_ok) {
    free(t);
    return status;
  }
  t->prev = head;
  t->next = head->next;
  head->next->prev = t;
  head->next = t;
  return napi_ok;
}

int aio_env_init(napi_env env) {
  tracked_t* head = (tracked_t*)malloc(sizeof(*head));
  if (head == NULL)
    return -1;
  head->prev = head->next = head;
  if (napi_set_instance_data(env, head, env_gone, NULL) != napi_ok) {
    free(head);
    return -1;
  }
  return 0;
}
