/* The shared-poller registry. A JS Poller owns one reference to an
 * aio_shared_t. share() hands out the id; fromShared() in any thread takes
 * another reference while at least one is alive. The kernel object is destroyed
 * with the last reference. The registry is process-wide because every Worker
 * loads the same addon image.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "glue.h"

struct aio_shared_s {
  aio_front_t* front;
  uint64_t id;
  unsigned refs;
  struct aio_shared_s* next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static aio_shared_t* registry = NULL;
static uint64_t next_id = 1;

aio_shared_t* aio_shared_new(aio_front_t* f) {
  aio_shared_t* s = (aio_shared_t*)calloc(1, sizeof(*s));
  if (s == NULL) {
    aio_front_destroy(f);
    return NULL;
  }
  s->front = f;
  s->refs = 1;
  pthread_mutex_lock(&registry_lock);
  s->id = next_id++;
  s->next = registry;
  registry = s;
  pthread_mutex_unlock(&registry_lock);
  return s;
}

aio_front_t* aio_shared_front(const aio_shared_t* s) {
  return s->front;
}

void aio_shared_retain(aio_shared_t* s) {
  pthread_mutex_lock(&registry_lock);
  s->refs++;
  pthread_mutex_unlock(&registry_lock);
}

void aio_shared_release(aio_shared_t* s) {
  aio_shared_t** pp;
  int last = 0;
  pthread_mutex_lock(&registry_lock);
  if (--s->refs == 0) {
    for (pp = &registry; *pp != NULL; pp = &(*pp)->next) {
      if (*pp == s) {
        *pp = s->next;
        break;
      }
    }
    last = 1;
  }
  pthread_mutex_unlock(&registry_lock);
  if (last) {
    aio_front_destroy(s->front);
    free(s);
  }
}

aio_shared_t* aio_shared_find(uint64_t id) {
  aio_shared_t* s;
  pthread_mutex_lock(&registry_lock);
  for (s = registry; s != NULL && s->id != id; s = s->next) {
  }
  if (s != NULL)
    s->refs++;
  pthread_mutex_unlock(&registry_lock);
  return s;
}

uint64_t aio_shared_id(const aio_shared_t* s) {
  return s->id;
}

static void handle_finalize(napi_env env, void* data, void* hint) {
  aio_handle_t* h = (aio_handle_t*)data;
  (void)env;
  (void)hint;
  if (h->shared != NULL)
    aio_shared_release(h->shared);
  free(h);
}

napi_value aio_shared_wrap(napi_env env, aio_shared_t* s) {
  napi_value ext;
  aio_handle_t* h = (aio_handle_t*)malloc(sizeof(*h));
  if (h == NULL) {
    aio_shared_release(s);
    return aio_throw_errno(env, -ENOMEM, "malloc");
  }
  h->shared = s;
  if (aio_create_external(env, h, handle_finalize, &ext) != napi_ok) {
    aio_shared_release(s);
    free(h);
    aio_throw_last_napi_error(env);
    return NULL;
  }
  return ext;
}
