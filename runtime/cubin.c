/* cubin.c - registers and stack frame of a kernel read back from its cubin (a 64-bit little-endian ELF),
 * for compiles whose program log lacks the ptxas report (a compile served from the driver's compute
 * cache). The input may be truncated or garbage, so every read is bounds-checked against the buffer. */
#include <stdint.h>
#include <string.h>

#include "rt.h"

#define EG_SHT_SYMTAB 2
#define EG_EHDR_SIZE 64
#define EG_SHDR_MIN 64
#define EG_SYM_MIN 24

/* Record formats of .nv.info sections: every record starts with {format, attribute}; NVAL, BVAL and
 * HVAL records are 4 bytes in all, SVAL ones carry a 16-bit payload size and the payload after it. */
#define EG_EIFMT_NVAL 1
#define EG_EIFMT_BVAL 2
#define EG_EIFMT_HVAL 3
#define EG_EIFMT_SVAL 4

/* Attributes whose SVAL payload is {uint32 symbol index, uint32 value}. The numbers were checked against
 * the ptxas report of the same cubin ("Used N registers", "N bytes stack frame") for sm_80 to sm_120;
 * ptxas writes both into the module-wide .nv.info section, keyed by the function's symbol. */
#define EG_EIATTR_FRAME_SIZE 0x11
#define EG_EIATTR_REGCOUNT 0x2f

typedef struct elf {
    const uint8_t *p;
    size_t size;
    uint64_t shoff;
    unsigned shentsize, shnum, shstrndx;
} elf;

typedef struct shdr {
    uint32_t name, type, link, info;
    uint64_t offset, size, entsize;
} shdr;

static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t u64(const uint8_t *p) { return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32; }

/* [off, off+len) lies inside the buffer; written so that no sum can wrap. */
static int fits(const elf *e, uint64_t off, uint64_t len) { return off <= e->size && len <= e->size - off; }

static int open_elf(elf *e, const void *data, size_t size) {
    memset(e, 0, sizeof *e);
    e->p = data;
    e->size = size;
    if (!data || size < EG_EHDR_SIZE) return -1;
    const uint8_t *p = data;
    /* ELFCLASS64, ELFDATA2LSB: what NVRTC writes on every host we build for */
    if (memcmp(p, "\177ELF", 4) != 0 || p[4] != 2 || p[5] != 1) return -1;
    e->shoff = u64(p + 0x28);
    e->shentsize = u16(p + 0x3a);
    e->shnum = u16(p + 0x3c);
    e->shstrndx = u16(p + 0x3e);
    if (e->shentsize < EG_SHDR_MIN || e->shnum == 0 || e->shstrndx >= e->shnum) return -1;
    if (!fits(e, e->shoff, (uint64_t)e->shnum * e->shentsize)) return -1;
    return 0;
}

/* Section header i, whose contents are known to lie inside the buffer (NOBITS sections excepted, which
 * nothing here reads). */
static int section(const elf *e, unsigned i, shdr *s) {
    if (i >= e->shnum) return -1;
    const uint8_t *h = e->p + e->shoff + (uint64_t)i * e->shentsize;
    s->name = u32(h);
    s->type = u32(h + 4);
    s->offset = u64(h + 0x18);
    s->size = u64(h + 0x20);
    s->link = u32(h + 0x28);
    s->info = u32(h + 0x2c);
    s->entsize = u64(h + 0x38);
    return 0;
}

/* The NUL-terminated string at off in string table section t, or NULL if it would run past the table. */
static const char *string_at(const elf *e, const shdr *t, uint64_t off) {
    if (!fits(e, t->offset, t->size) || off >= t->size) return NULL;
    const char *s = (const char *)e->p + t->offset + off;
    return memchr(s, 0, (size_t)(t->size - off)) ? s : NULL;
}

static const char *section_name(const elf *e, const shdr *s) {
    shdr names;
    if (section(e, e->shstrndx, &names)) return NULL;
    return string_at(e, &names, s->name);
}

/* Index of the symbol named `name` in symbol table section symtab, or -1. */
static long find_symbol(const elf *e, const shdr *symtab, const char *name) {
    shdr strtab;
    if (section(e, symtab->link, &strtab)) return -1;
    uint64_t ent = symtab->entsize >= EG_SYM_MIN ? symtab->entsize : EG_SYM_MIN;
    if (!fits(e, symtab->offset, symtab->size)) return -1;
    uint64_t n = symtab->size / ent;
    for (uint64_t j = 0; j < n && j <= INT32_MAX; j++) {
        const char *s = string_at(e, &strtab, u32(e->p + symtab->offset + j * ent));
        if (s && strcmp(s, name) == 0) return (long)j;
    }
    return -1;
}

/* Walk the records of one .nv.info section, picking up the attributes of symbol sym. A record of a
 * format we do not know ends the walk: its length is unknown, so what follows cannot be framed. */
static void walk_info(const elf *e, const shdr *s, uint32_t sym, int *regs, int *frame) {
    if (!fits(e, s->offset, s->size)) return;
    const uint8_t *p = e->p + s->offset, *end = p + s->size;
    while (end - p >= 4) {
        unsigned fmt = p[0], attr = p[1];
        if (fmt == EG_EIFMT_NVAL || fmt == EG_EIFMT_BVAL || fmt == EG_EIFMT_HVAL) {
            p += 4;
            continue;
        }
        if (fmt != EG_EIFMT_SVAL) return;
        unsigned len = u16(p + 2);
        if ((size_t)(end - p - 4) < len) return;
        const uint8_t *v = p + 4;
        p += 4 + len;
        if (len < 8 || u32(v) != sym) continue;
        uint32_t value = u32(v + 4);
        if (value > INT32_MAX) continue;
        if (attr == EG_EIATTR_REGCOUNT) *regs = (int)value;
        if (attr == EG_EIATTR_FRAME_SIZE) *frame = (int)value;
    }
}

int eg_rt_cubin_resources(const void *data, size_t size, const char *kernel, int *registers, int *stack_bytes) {
    int regs = -1, frame = -1;
    elf e;
    shdr s, symtab;
    long sym = -1;
    unsigned symtab_index = 0;
    if (!kernel || open_elf(&e, data, size)) goto done;
    for (unsigned i = 0; i < e.shnum && sym < 0; i++) {
        if (section(&e, i, &symtab) == 0 && symtab.type == EG_SHT_SYMTAB) {
            sym = find_symbol(&e, &symtab, kernel);
            symtab_index = i;
        }
    }
    if (sym < 0) goto done;

    for (unsigned i = 0; i < e.shnum; i++) {
        if (section(&e, i, &s)) continue;
        const char *name = section_name(&e, &s);
        if (!name) continue;
        /* the module-wide section and the kernel's own; symbol indices in them refer to their linked table */
        int info = strcmp(name, ".nv.info") == 0 ||
                   (strncmp(name, ".nv.info.", 9) == 0 && strcmp(name + 9, kernel) == 0);
        if (info && s.link == symtab_index) walk_info(&e, &s, (uint32_t)sym, &regs, &frame);
    }
    /* Up to sm_89 ptxas also writes the count into bits 24-31 of sh_info of the kernel's .text section
     * (checked against the report); from sm_90 on those bits are 0, so this only stands in when the
     * attribute is missing. */
    if (regs < 0) {
        for (unsigned i = 0; i < e.shnum; i++) {
            if (section(&e, i, &s)) continue;
            const char *name = section_name(&e, &s);
            if (name && strncmp(name, ".text.", 6) == 0 && strcmp(name + 6, kernel) == 0 && (s.info >> 24) != 0) {
                regs = (int)(s.info >> 24);
                break;
            }
        }
    }

done:
    if (registers) *registers = regs;
    if (stack_bytes) *stack_bytes = frame;
    return regs >= 0 ? 0 : -1;
}
