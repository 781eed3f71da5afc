// ktimers mps2 port: a ROMFS segment (MicroPython's vfs.rom_ioctl) in memory-mapped PSRAM,
// kept in a host file through ARM semihosting, the way a real board keeps it in flash.
//
// Modules in a ROMFS image run in place: their bytecode and constant strings stay in the
// segment instead of being copied onto the GC heap, as frozen modules do. At power-on the
// segment is filled from "romfs=<path>" on the semihosting command line (default
// "romfs.img"; absent: a blank, erased segment). Writes update the segment and the file,
// so the image survives a QEMU restart as it would survive a board's power cycle.
//
//   rom_ioctl(1)                   -> 1 segment
//   rom_ioctl(2, 0)                -> read-only memoryview of the segment (ROMFS_SIZE bytes)
//   rom_ioctl(3, 0, len)           -> erase the first len bytes (0xff), truncate the file;
//                                     returns the minimum write size (4)
//   rom_ioctl(4, 0, offset, data)  -> write data at offset (segment and file)
//   rom_ioctl(5, 0)                -> write complete: close the file
// Errors are returned as negative errno values, as MicroPython's ports do.
#include <string.h>
#include "py/runtime.h"
#include "py/objarray.h"
#include "py/mperrno.h"
#include "extmod/vfs.h"
#include "mps2_hw.h"

#define MODE_RB (1)
#define MODE_WPLUSB (7)
#define ROMFS_MIN_WRITE (4)

extern uint8_t _romfs_start[], _romfs_end[];
#define ROMFS_SIZE ((size_t)(_romfs_end - _romfs_start))

static mp_obj_array_t romfs_view = {{&mp_type_memoryview}, 'B', 0, 0, NULL};
static uint8_t romfs_loaded; // .bss: cleared by a power-on or machine.reset(), not a soft reset
static int romfs_handle = -1; // the host file while a write is in progress
static char romfs_path[192];

static int romfs_open(int mode) {
    if (!mps2_cmdline_arg("romfs=", romfs_path, sizeof(romfs_path))) {
        strcpy(romfs_path, "romfs.img");
    }
    uint32_t blk[3] = {(uint32_t)romfs_path, (uint32_t)mode, strlen(romfs_path)};
    return semihost_call(SYS_OPEN, blk);
}

// Power-on: the segment reads as erased flash, then as much of the host file as fits.
static void romfs_load(void) {
    memset(_romfs_start, 0xff, ROMFS_SIZE);
    romfs_view.len = ROMFS_SIZE;
    romfs_view.items = _romfs_start;
    romfs_loaded = 1;
    int h = romfs_open(MODE_RB);
    if (h < 0) {
        return;
    }
    uint32_t lb[1] = {(uint32_t)h};
    int len = semihost_call(SYS_FLEN, lb);
    if (len > 0) {
        uint32_t n = (uint32_t)len < ROMFS_SIZE ? (uint32_t)len : ROMFS_SIZE;
        uint32_t rb[3] = {(uint32_t)h, (uint32_t)_romfs_start, n};
        semihost_call(SYS_READ, rb);
    }
    semihost_call(SYS_CLOSE, lb);
}

static void romfs_close(void) {
    if (romfs_handle >= 0) {
        uint32_t cb[1] = {(uint32_t)romfs_handle};
        semihost_call(SYS_CLOSE, cb);
        romfs_handle = -1;
    }
}

mp_obj_t mp_vfs_rom_ioctl(size_t n_args, const mp_obj_t *args) {
    mp_int_t cmd = mp_obj_get_int(args[0]);
    if (!romfs_loaded) {
        romfs_load();
    }
    if (cmd == MP_VFS_ROM_IOCTL_GET_NUMBER_OF_SEGMENTS) {
        return MP_OBJ_NEW_SMALL_INT(1);
    }
    if (n_args < 2 || mp_obj_get_int(args[1]) != 0) {
        return MP_OBJ_NEW_SMALL_INT(-MP_EINVAL);
    }
    if (cmd == MP_VFS_ROM_IOCTL_GET_SEGMENT) {
        return MP_OBJ_FROM_PTR(&romfs_view);
    }
    if (cmd == MP_VFS_ROM_IOCTL_WRITE_PREPARE && n_args == 3) {
        mp_int_t len = mp_obj_get_int(args[2]);
        if (len < 0 || (size_t)len > ROMFS_SIZE) {
            return MP_OBJ_NEW_SMALL_INT(-MP_EINVAL);
        }
        romfs_close();
        romfs_handle = romfs_open(MODE_WPLUSB); // truncates: the old image is gone
        if (romfs_handle < 0) {
            return MP_OBJ_NEW_SMALL_INT(-MP_EIO);
        }
        memset(_romfs_start, 0xff, (size_t)len);
        return MP_OBJ_NEW_SMALL_INT(ROMFS_MIN_WRITE);
    }
    if (cmd == MP_VFS_ROM_IOCTL_WRITE && n_args == 4) {
        mp_int_t offset = mp_obj_get_int(args[2]);
        mp_buffer_info_t bufinfo;
        mp_get_buffer_raise(args[3], &bufinfo, MP_BUFFER_READ);
        if (romfs_handle < 0) {
            return MP_OBJ_NEW_SMALL_INT(-MP_EBADF); // no rom_ioctl(3) before
        }
        if (offset < 0 || (size_t)offset > ROMFS_SIZE || bufinfo.len > ROMFS_SIZE - (size_t)offset) {
            return MP_OBJ_NEW_SMALL_INT(-MP_EINVAL);
        }
        memcpy(_romfs_start + offset, bufinfo.buf, bufinfo.len);
        uint32_t sb[2] = {(uint32_t)romfs_handle, (uint32_t)offset};
        uint32_t wb[3] = {(uint32_t)romfs_handle, (uint32_t)bufinfo.buf, bufinfo.len};
        if (semihost_call(SYS_SEEK, sb) != 0 || semihost_call(SYS_WRITE, wb) != 0) {
            return MP_OBJ_NEW_SMALL_INT(-MP_EIO);
        }
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    if (cmd == MP_VFS_ROM_IOCTL_WRITE_COMPLETE && n_args == 2) {
        romfs_close();
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    return MP_OBJ_NEW_SMALL_INT(-MP_EINVAL);
}
