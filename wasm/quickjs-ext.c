/*
 * rtcrm additions to QuickJS 2021-03-27.
 *
 * build.sh appends this file to the end of quickjs.c (a copy under
 * wasm/build/src), so these helpers can reach the private JSContext /
 * JSRuntime fields without changing any existing QuickJS code.
 */

/* Read / write the per-context interrupt poll counter. QuickJS decrements it
   at every function call and backward jump and calls the runtime's interrupt
   handler when it reaches 0. The engine uses it to count fuel exactly. */
int rtcrm_get_interrupt_counter(JSContext *ctx)
{
    return ctx->interrupt_counter;
}

void rtcrm_set_interrupt_counter(JSContext *ctx, int value)
{
    ctx->interrupt_counter = value;
}

/* Drop every pending job (promise reactions, dynamic import continuations)
   without running it: filters are synchronous, and jobs left in the queue
   would keep their context and values alive forever. */
void rtcrm_discard_jobs(JSRuntime *rt)
{
    struct list_head *el, *el1;
    int i;
    list_for_each_safe(el, el1, &rt->job_list) {
        JSJobEntry *e = list_entry(el, JSJobEntry, link);
        for(i = 0; i < e->argc; i++)
            JS_FreeValueRT(rt, e->argv[i]);
        js_free_rt(rt, e);
    }
    init_list_head(&rt->job_list);
}

/* Called by the patched libregexp at every backtracking step: three units each
   (a step costs about three polls of a plain loop), so catastrophic
   backtracking runs out of fuel instead of forever. */
int lre_check_timeout(void *opaque)
{
    return js_charge((JSContext *)opaque, 3);
}

/* Charge fuel from the allocator (wasm/runtime.c), which cannot throw: the next poll stops the call. */
void rtcrm_charge_quiet(JSContext *ctx, int64_t units)
{
    js_charge_quiet(ctx, units);
}
