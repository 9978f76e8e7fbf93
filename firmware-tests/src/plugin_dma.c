/* The Rust example plugin dma-engine (machines/plugin_dma.toml: IRQ 25, 4 cycles per byte):
 * a 256-byte copy between RAM buffers is BUSY and leaves the destination untouched until it
 * completes 1024 cycles later, then the IRQ handler runs (IPSR 41), DONE and COPIED are set
 * and the copy is exact; a transfer from an unmapped source raises ERROR (and the IRQ)
 * without writing anything; DONE/ERROR are write-one-to-clear and clearing drops the IRQ. */
#include "plugin_devices.h"

static uint8_t src[256] __attribute__((aligned(4)));
static uint8_t dst[256] __attribute__((aligned(4)));
static volatile uint32_t irqs, bad_ipsr, status_in_irq, cycles_at_irq;

void IRQ25_Handler(void)
{
    if (get_ipsr() != EXC_IRQ0 + DMA_IRQ)
        bad_ipsr++;
    cycles_at_irq = DWT_CYCCNT;
    status_in_irq = DMA_STATUS;
    DMA_STATUS = DMA_DONE | DMA_ERROR;
    irqs++;
}

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    for (uint32_t i = 0; i < sizeof src; i++) {
        src[i] = (uint8_t)(i ^ 0xa5);
        dst[i] = 0;
    }
    nvic_enable(DMA_IRQ);
    DMA_SRC = (uint32_t)src;
    DMA_DST = (uint32_t)dst;
    DMA_LEN = sizeof src;
    expect_eq("registers read back", DMA_SRC == (uint32_t)src && DMA_DST == (uint32_t)dst && DMA_LEN == 256, 1);
    uint32_t t0 = DWT_CYCCNT;
    DMA_CTRL = DMA_START | DMA_IRQEN;
    expect_eq("busy after start", DMA_STATUS, DMA_BUSY);
    expect_eq("destination untouched while busy", dst[0] | dst[255], 0);
    while (irqs == 0)
        wfi();
    expect_eq("one interrupt", irqs, 1);
    expect_eq("ipsr 41 in the handler", bad_ipsr, 0);
    expect_eq("done in the handler", status_in_irq, DMA_DONE);
    expect("completes after 256 * 4 cycles", cycles_at_irq - t0 >= 1024 && cycles_at_irq - t0 < 1024 + 200);
    int same = 1;
    for (uint32_t i = 0; i < sizeof src; i++)
        if (dst[i] != src[i])
            same = 0;
    expect("copy verified", same);
    expect_eq("copied", DMA_COPIED, 256);
    expect_eq("status cleared", DMA_STATUS, 0);
    expect_eq("irq no longer pending", nvic_is_pending(DMA_IRQ), 0);

    for (uint32_t i = 0; i < sizeof dst; i++)
        dst[i] = 0x11;
    DMA_SRC = 0x30000000u; /* nothing there */
    DMA_CTRL = DMA_START | DMA_IRQEN;
    while (irqs == 1)
        wfi();
    expect_eq("error in the handler", status_in_irq, DMA_ERROR);
    expect_eq("nothing copied", DMA_COPIED, 0);
    expect_eq("destination unchanged", dst[0] == 0x11 && dst[255] == 0x11, 1);

    DMA_SRC = (uint32_t)src;
    DMA_LEN = 16;
    DMA_CTRL = DMA_START; /* no IRQEN: poll */
    while (DMA_STATUS & DMA_BUSY) {
    }
    expect_eq("polled completion", DMA_STATUS, DMA_DONE);
    expect_eq("no interrupt without irqen", irqs, 2);
    expect_eq("16 bytes", dst[15] == src[15] && dst[16] == 0x11, 1);
    return check_done("plugin_dma");
}
